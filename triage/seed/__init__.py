"""Seed examples shipped with the package: the default model trains on them offline.

Files (all written for this project, not taken from any data set):

* ``examples.csv`` -- ``text,category,language,priority`` training examples, Russian and
  English, for the default help-desk taxonomy;
* ``holdout.csv`` -- different sentences in the same format, for measuring the default
  model;
* ``team_map.json`` -- ``{"Team": ["category", ...]}``, the layout of the shared team maps.
"""
