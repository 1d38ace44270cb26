"""Password rules: long enough, not common, not the email address."""
import gzip
from functools import lru_cache

from config import BASE_DIR

MIN_LENGTH = 12
MAX_LENGTH = 128
COMMON_PASSWORDS_FILE = BASE_DIR / "seed" / "security" / "common-passwords.txt.gz"


@lru_cache(maxsize=1)
def common_passwords():
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as handle:
        return frozenset(line.strip() for line in handle if line.strip())


def password_problem(password, email=""):
    """Return why a password is unacceptable, or None."""
    if len(password) < MIN_LENGTH:
        return f"Password must be {MIN_LENGTH} characters or more"
    if len(password) > MAX_LENGTH:
        return f"Password must be {MAX_LENGTH} characters or fewer"
    lowered = password.lower()
    if lowered in common_passwords() or lowered.replace(" ", "") in common_passwords():
        return "This password is too common. Choose one that is harder to guess"
    if email and lowered == email.lower():
        return "Password must not be your email address"
    if len(set(password)) < 4:
        return "Password must not repeat the same few characters"
    return None
