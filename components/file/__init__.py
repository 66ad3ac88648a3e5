"""``file:FOLDER`` - consume the files of a folder (polling), or write files into it.

The consumer (``consumer.py``) runs each file through the route as a lazy ``FileBody`` and,
once its unit of work is done, moves it to ``move`` (``.done``) or ``move_failed`` (``.error``),
deletes it, or leaves it; a crash loses nothing (a file may be processed twice, never lost).
The producer (``producer.py``) writes atomically through a hidden temporary file. File-name
templates, ``${file:...}`` tokens and the unsafe-name check are in ``names.py``; what a poll
finds, how it sorts and where files move in ``fileinfo.py``; moves that never overwrite and
folder walks that never go through a symbolic link in ``fileops.py``; the options, endpoint and
component in ``endpoint.py``. Symbolic links are not followed unless ``follow_symlinks=true``,
and then only inside the folder. Options: ``eip doc file``.
"""

from components.file.consumer import FileConsumer
from components.file.endpoint import FileComponent, FileEndpoint
from components.file.fileops import move_file
from components.file.names import FileTemplate, check_relative_name
from components.file.producer import FileProducer

__all__ = [
    "FileComponent",
    "FileConsumer",
    "FileEndpoint",
    "FileProducer",
    "FileTemplate",
    "check_relative_name",
    "move_file",
]
