"""A CKAN-compatible read API over the open catalog (R-D1, R-D4): the action API at
``/api/action/<name>`` and ``/api/3/action/<name>`` that CKAN's clients, harvesters and the
``ckanapi`` library speak, so that tools written for the world's most used open-data catalog
read this one unchanged."""
