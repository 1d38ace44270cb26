"""Evidence files. The store is shared with the certificates on a profile, so it lives in
`portal.core.files`; accreditation code keeps reading it from here."""
from portal.core.files import (  # noqa: F401  (the names accreditation code uses)
    ACCEPTED, EXTENSIONS, KINDS, STORED_NAME_RE, check_upload, discard, exists, max_bytes,
    open_stored, path_for, read_upload, sniff, storage_dir, store,
)
