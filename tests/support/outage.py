"""Texts of one outage, for the incident tests."""

#: One outage, in the words of eight customers (pairwise cosine 0.57-0.88 on the triage
#: vectors: every five of them form a cluster with the default settings).
OUTAGE = [
    "The app does not open, it shows an error",
    "The app does not open: error on start",
    "The app does not open for me, error",
    "the app does not open, shows an error message",
    "Your app does not open, there is an error",
    "The app does not open since morning, error",
    "app does not open - error!",
    "The app does not open again, error screen",
]

#: One outage put in two ways that share few words (cosine 0.2-0.4 across, 0.8-0.9 within):
#: each forms a cluster of its own; the triage gives both one category.
LOGIN_OUTAGE = [
    "The app is down, I cannot log in",
    "I can't log in to the app, it keeps failing",
    "Is the app down? Login does not work for me",
    "Cannot log into the app at all, please help",
]
LOGIN_OUTAGE_OTHER_WORDS = "App not working since this morning, login fails"
