"""Pick the torch device from KGSTORE_DEVICE: CUDA when present (auto), else the CPU."""

from kgstore.errors import SettingsError
from kgstore.settings import Device, Settings


def resolve_device(settings: Settings) -> str:
    """'cuda' or 'cpu'. torch is imported only here, and only when it is installed."""
    try:
        import torch
    except ImportError:
        cuda = False
    else:
        cuda = torch.cuda.is_available()
    if settings.kgstore_device is Device.CUDA and not cuda:
        raise SettingsError("KGSTORE_DEVICE=cuda but no CUDA device is visible to torch")
    if settings.kgstore_device is Device.CPU:
        return "cpu"
    return "cuda" if cuda else "cpu"
