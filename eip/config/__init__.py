"""Configuration for ``eip run``: one YAML file plus ``EIP_...`` environment variables.

Every section is optional; an empty file (or none at all) is a valid configuration::

    properties:                  # values for {{name}} placeholders in endpoint URIs
      orders:
        folder: data/orders      # {{orders.folder}} (nested maps join with dots)
    server:                      # the engine's HTTP server (management API, http: consumers)
      host: 127.0.0.1
      port: 8080                 # 0 picks a free port
      threads: 8
      max_request_body: 10MB     # bytes; KB, MB and GB are 1024-based
      connection_limit: 1000     # at the limit the longest idle connection makes room
      idle_timeout: 30s          # an idle connection is closed after this
    amqp:
      url: amqp://app@rabbit:5672/
      password_file: /run/secrets/amqp_password   # put into the URL
    datasources:
      orders:
        url: postgresql+psycopg://app@db:5432/orders
        password_env: ORDERS_DB_PASSWORD
        pool_size: 10            # also max_overflow, pool_timeout, pool_recycle (seconds)
    auth: {...}                  # passed to eip.management.install(engine, config)
    management: {...}            # idem (``enabled: false`` serves no management API)
    logging:
      level: INFO                # DEBUG, INFO, WARNING, ERROR
      format: auto               # auto (text on a terminal, else logfmt), text, logfmt, json
    shutdown_timeout: 10s        # seconds (or 500ms, 2s, 1m) in-flight exchanges get at stop

**Secrets** stay out of the file, with one scheme everywhere (the one ``eip.management`` uses
for ``auth``): a secret setting ``NAME`` (a secret name by the one rule of ``eip.secrets``:
``password``, ``secret``, ``key``, ``api_keys``, ``token``...) may instead be given as
``NAME_env: VARIABLE`` (read from the environment) or ``NAME_file: PATH`` (the file's content
without its trailing newline: Docker and Kubernetes secrets; a relative path is relative to
the config file). Only one of ``NAME``, ``NAME_env`` and ``NAME_file`` may be given. A missing variable or an unreadable
file is an error that names the key, never a value. Secret properties need no file entry at all:
``{{db.password}}`` reads ``EIP_DB_PASSWORD`` from the environment by itself.

What is masked (``xxxxxx``) by ``repr(config)``, ``config.masked()`` and, through
``config.secrets``, every log line of ``eip run`` (``eip.logging_setup``): the value of every
secret-named key (``api_keys`` lists, and the keys of an ``api_keys`` map, too), everything read
through ``_env``/``_file``, and the password of any URL.

**Environment variables** override the file (command-line options override both). The name is
``EIP_`` plus the setting's dotted path in upper case with every other character as ``_``:

* ``EIP_SERVER_HOST``, ``EIP_SERVER_PORT``, ``EIP_SERVER_THREADS``,
  ``EIP_SERVER_MAX_REQUEST_BODY``, ``EIP_AMQP_URL``, ``EIP_AMQP_PASSWORD``,
  ``EIP_LOGGING_LEVEL``, ``EIP_LOGGING_FORMAT`` and ``EIP_SHUTDOWN_TIMEOUT`` work with or
  without a file (``EIP_CONFIG`` names the file itself);
* a property drops the ``properties.`` prefix: ``EIP_ORDERS_FOLDER`` for ``{{orders.folder}}``
  (the name the engine's placeholder lookup already reads, so it also works for a property the
  file does not mention);
* a datasource setting is ``EIP_DATASOURCE_<NAME>_<KEY>`` (``EIP_DATASOURCE_ORDERS_URL``,
  ``..._PASSWORD``, ``..._POOL_SIZE``), as ``eip.datasources`` already reads for the URL;
* any scalar the file sets under ``auth`` or ``management`` (``EIP_AUTH_JWT_ISSUER`` for
  ``auth.jwt.issuer``).

A typo'd key is an error with the closest valid name (``unknown key 'sever'; did you mean
'server'?``; ``pasword_env`` suggests ``password_env``); a key that appears twice is invalid YAML.
Every problem of a file is reported at once: one ``ConfigFileError`` whose ``problems`` list each
as ``FILE:LINE: key.path: what`` (``FILE: key.path (from EIP_X): what`` for a variable), in file
order; only unreadable or invalid YAML stops at the first.
"""

from __future__ import annotations

from eip.config.keys import env_name
from eip.config.loader import load_config
from eip.config.settings import Config
from eip.config.values import parse_size
from eip.secrets import MIN_MASKED_LENGTH, is_secret_name, mask_text

#: Secrets shorter than ``MIN_MASKED_LENGTH`` (``eip.secrets``) are masked where they are known to
#: be secrets (repr, URLs), but not searched for in free log text, where they would mask innocent words.
__all__ = ["MIN_MASKED_LENGTH", "Config", "env_name", "is_secret_name", "load_config", "mask_text", "parse_size"]
