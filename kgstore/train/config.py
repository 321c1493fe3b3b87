"""Reading a training config dataclass from a TOML or JSON file, strictly: an unknown key or
a value of the wrong type is a `ConfigError` naming the key and the file, raised before
anything is built or trained (a misspelt `dropuot = 0.5` must not silently train with the
default)."""

import dataclasses
import json
import tomllib
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

from kgstore.errors import ConfigError

C = TypeVar("C")


def _check(key: str, value: Any, annotation: Any, source: str) -> Any:
    """`value` converted to the field's type, or a ConfigError."""
    origin = typing.get_origin(annotation)
    if origin is tuple:
        (inner, _) = typing.get_args(annotation)
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{source}: {key} must be a list, not {value!r}")
        return tuple(_check(key, item, inner, source) for item in value)
    if origin is typing.Literal:
        choices = typing.get_args(annotation)
        if value not in choices:
            raise ConfigError(f"{source}: {key} must be one of {list(choices)}, not {value!r}")
        return value
    if origin in (typing.Union, types.UnionType):
        raise TypeError(f"config field {key}: union types are not supported")
    if annotation is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, annotation) or (annotation is int and isinstance(value, bool)):
        raise ConfigError(
            f"{source}: {key} must be {annotation.__name__}, not {type(value).__name__} {value!r}"
        )
    return value


def config_from_dict(cls: type[C], data: dict[str, Any], source: str = "config") -> C:
    """An instance of the dataclass `cls` from `data` (missing keys keep their defaults)."""
    hints = typing.get_type_hints(cls)
    known = {field.name for field in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(
            f"{source}: unknown key {unknown[0]!r}"
            + (f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else "")
            + f"; known keys: {', '.join(sorted(known))}"
        )
    values = {key: _check(key, value, hints[key], source) for key, value in data.items()}
    try:
        return cls(**values)
    except ValueError as exc:
        raise ConfigError(f"{source}: {exc}") from None


def read_config_table(path: Path | str) -> dict[str, Any]:
    """The top-level table of a `.toml` or `.json` config file, keys not yet checked."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    try:
        if path.suffix == ".toml":
            data = tomllib.loads(text)
        elif path.suffix == ".json":
            data = json.loads(text)
        else:
            raise ConfigError(f"{path}: a config file must end in .toml or .json")
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path} is not valid {path.suffix[1:].upper()}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the config must be a table of keys, not {type(data).__name__}")
    return data


def config_from_file(cls: type[C], path: Path | str) -> C:
    """`config_from_dict` of a `.toml` or `.json` file."""
    return config_from_dict(cls, read_config_table(path), str(path))
