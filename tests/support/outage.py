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
