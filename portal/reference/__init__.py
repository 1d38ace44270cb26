"""Reference data: CPV codes, UK geography and the charity classification vocabularies."""
