"""Search on an app: the document types the domains describe are registered, the two indexes
made, and the change subscribers that keep them in step handed to the dispatcher (their keys
logged, so every host's indexes follow: portal.search.follow)."""
from portal.core.changes import Subscriber, one
from portal.search import index as ranked
from portal.search import opportunities as listing
from portal.search import whoosh_internals
from portal.search.registry import register


def init_app(app, ranked_type, listing_type):
    """`ranked_type` is held by the ranked index (keyword search and matching), `listing_type`
    by the listing index (keyword search: ranked, or every word required)."""
    whoosh_internals.install(app)
    register(ranked_type)
    register(listing_type)
    directory = app.config["SEARCH_INDEX_DIR"]
    app.extensions["search_index"] = ranked.SearchIndex(directory, ranked_type)
    app.extensions["opportunity_index"] = listing.OpportunityIndex(directory, listing_type)
    app.jinja_env.globals["search_rebuilding"] = ranked.rebuilding


def subscribers(app):
    """What keeps both indexes in step with commits, for portal.core.changes. Each looks the
    index up when it acts, so an index replaced on the app (as tests do) is the one written."""
    ranked_type = ranked.get_index(app).kind
    listing_type = listing.get_opportunity_index(app).kind
    return [Subscriber(f"{ranked_type.name} index", one(ranked_type.document_id), ranked.apply,
                       logged_as=ranked_type.name),
            Subscriber(f"{listing_type.name} index", one(listing_type.document_id),
                       listing.apply, logged_as=listing_type.name)]
