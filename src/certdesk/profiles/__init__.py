"""Word templates and body profiles (data). ``domain.profiles`` loads and checks them."""

from pathlib import Path

TEMPLATES_DIR = Path(__file__).resolve().parent
