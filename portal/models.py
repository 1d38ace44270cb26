"""Imports every model module so the metadata is complete (for Alembic and tests)."""
from portal.accounts.models import Invitation, User  # noqa: F401
from portal.core.audit import AuditEvent  # noqa: F401
from portal.core.change_log import IndexChange  # noqa: F401
from portal.core.mail import OutboxMessage  # noqa: F401
from portal.organisations.models import Credential, Organisation, PastWork  # noqa: F401
from portal.reference.models import Area, CpvCode, VocabularyTerm  # noqa: F401
from portal.pipeline import models as _pipeline  # noqa: F401,E402
from portal.accreditation import models as _accreditation  # noqa: F401,E402
from portal.matching import models as _matching  # noqa: F401,E402
from portal.alerts import models as _alerts  # noqa: F401,E402
from portal.consortia import models as _consortia  # noqa: F401,E402
from portal.insight import models as _insight  # noqa: F401,E402
# Last: importing portal.api loads the API's route modules, which need every model above.
from portal.api.models import ApiToken  # noqa: F401,E402
