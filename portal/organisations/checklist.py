"""What a new supplier profile still needs before buyers and the matching engine can find it."""
from dataclasses import dataclass


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    label: str
    done: bool
    endpoint: str
    needs_org_id: bool = True

    def url_args(self, org):
        """Arguments for `url_for(self.endpoint, ...)`."""
        return {"org_id": org.id} if self.needs_org_id else {}


def profile_checklist(org, accredited=False):
    """The steps of a new profile, each ticked when done. `accredited` says whether the
    organisation holds a current accreditation (the accreditation records live elsewhere)."""
    return [
        ChecklistItem("categories", "Choose your service categories", bool(org.cpv_codes),
                      "organisations.categories"),
        ChecklistItem("areas", "Say which areas you serve", bool(org.areas),
                      "organisations.areas"),
        ChecklistItem("credentials", "Add your policies and certificates", bool(org.credentials),
                      "organisations.credentials"),
        ChecklistItem("accreditation", "Get accredited", accredited,
                      "accreditation.dashboard", needs_org_id=False),
    ]

