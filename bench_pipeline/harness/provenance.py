"""Facts about the machine and interpreter recorded on every measurement row."""

from __future__ import annotations

import functools
import platform
import socket

import psutil


@functools.cache
def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def logical_cores() -> int:
    return psutil.cpu_count(logical=True) or 1


@functools.cache
def machine() -> dict:
    return {
        "python_version": platform.python_version(),
        "cpu_model": cpu_model(),
        "logical_cores": logical_cores(),
        "total_memory_bytes": psutil.virtual_memory().total,
        "hostname": socket.gethostname(),
    }
