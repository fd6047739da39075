"""Output of the interop test's Python peers: one whole line per write.

The threading executor runs endpoints on several threads at once, and print() writes the text
and its newline separately: two lines could come out as one ("{...}{...}\\n\\n").
"""
import sys
import threading

_stdout_lock = threading.Lock()


def emit(line):
    with _stdout_lock:
        sys.stdout.write(line + '\n')
        sys.stdout.flush()
