"""What the benchmarks read about a process from /proc (Linux only)."""

from pathlib import Path


def status_fields(pid: int) -> dict[str, str]:
    """`/proc/<pid>/status` as a dict: `{"Name": "java", "VmRSS": "571234 kB", ...}`."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return fields


def mib(fields: dict[str, str], key: str) -> float:
    """A `kB` memory field (VmRSS, VmHWM, …) in MiB; 0 when the process has none."""
    return int(fields.get(key, "0 kB").split()[0]) / 1024
