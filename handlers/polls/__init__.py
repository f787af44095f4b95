"""Quick polls of an AG: starting, voting, results, export, and their life on the networks."""
