"""Seed examples shipped with the package: the default model trains on them offline.

Files (all written for this project, not taken from any data set):

* ``examples.csv`` -- ``text,category,language,priority`` training examples, Russian and
  English, for the default help-desk taxonomy;
* ``holdout.csv`` -- different sentences in the same format, for measuring the default
  model;
* ``off_topic.csv`` -- out-of-scope messages (category ``oos``): greetings, thanks, spam
  and adverts, questions meant for another company, in Russian and English; they train the
  default model's "none of these" class;
* ``off_topic_holdout.csv`` -- different out-of-scope messages, for measuring it;
* ``acknowledgements.csv`` -- closing messages (category ``ack``: "thanks!", "спасибо, всё
  работает", "👍") and real problems that mention thanks (category ``other``), Russian and
  English; they train :mod:`triage.acknowledgement`;
* ``acknowledgements_holdout.csv`` -- different ones, for measuring it;
* ``team_map.json`` -- ``{"Team": ["category", ...]}``, the layout of the shared team maps.
"""
