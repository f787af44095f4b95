"""One person, several accounts: codes, linking (merge), what each side brought, unlinking."""
