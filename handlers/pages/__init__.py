"""Web pages for what a chat shows badly: a poll's result, a Terminumfrage's grid (with
answering by link), an AG's overview for its leads. Reached by personal links (`/seite`)."""
