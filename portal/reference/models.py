"""Reference data tables, loaded from seed/reference by `flask seed reference`."""
from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db

AREA_KINDS = ("country", "region", "county", "authority")
AREA_KIND_LABELS = {"authority": "local authority", "county": "county", "region": "region",
                    "country": "nation"}


class CpvCode(db.Model):
    """A Common Procurement Vocabulary code (8 digits, no check digit)."""

    __tablename__ = "cpv_code"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    description: Mapped[str] = mapped_column(String(400), nullable=False)
    level: Mapped[str] = mapped_column(String(12), nullable=False)
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("cpv_code.code"), index=True)
    is_social_service: Mapped[bool] = mapped_column(default=False, nullable=False)

    parent = relationship("CpvCode", remote_side=[code])

    @property
    def label(self):
        return f"{self.code} {self.description}"


class Area(db.Model):
    """A UK area by GSS code: a country, an English region, a county (upper tier) or an authority."""

    __tablename__ = "area"

    code: Mapped[str] = mapped_column(String(9), primary_key=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(10), nullable=False, index=True)
    county_code: Mapped[str | None] = mapped_column(String(9), index=True)
    region_code: Mapped[str | None] = mapped_column(String(9), index=True)
    country_code: Mapped[str | None] = mapped_column(String(9), index=True)

    @property
    def label(self):
        return f"{self.name} ({self.kind_label})"

    @property
    def kind_label(self):
        return AREA_KIND_LABELS[self.kind]


class VocabularyTerm(db.Model):
    """A term from a controlled list: client groups ('who') and ways of working ('how')."""

    __tablename__ = "vocabulary_term"
    __table_args__ = (UniqueConstraint("vocabulary", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vocabulary: Mapped[str] = mapped_column(String(20), nullable=False, index=True)
    value: Mapped[str] = mapped_column(String(120), nullable=False)
    position: Mapped[int] = mapped_column(Integer, default=0, nullable=False)


class AreaCover(db.Model):
    """An area listed by a profile or an entry, and an area it counts in on a map: itself,
    every area inside it (London covers Hackney) and every area it is inside (Hackney counts
    in London). Derived from the areas by `flask seed reference`."""

    __tablename__ = "area_cover"

    area_code: Mapped[str] = mapped_column(ForeignKey("area.code", ondelete="CASCADE"),
                                           primary_key=True)
    unit_code: Mapped[str] = mapped_column(ForeignKey("area.code", ondelete="CASCADE"),
                                           primary_key=True, index=True)
