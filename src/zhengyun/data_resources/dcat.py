"""The open part of the catalog as DCAT-AP 3 (R-D1, R-D4): every published resource that is
open to the public, described in RDF so that any portal or harvester — the national open
data portal, a European DCAT-AP harvester, CKAN's DCAT extension — reads it without knowing
the platform. Served as Turtle (``/catalog.ttl``) and JSON-LD (``/catalog.jsonld``).

Public data is the one thing read here without the restriction helper: a resource marked
open (and so never 不予共享) is for everyone, signed in or not.
"""

from rdflib import RDF, XSD, BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, OWL

from zhengyun.data_resources.choices import ShareType, UpdateCycle
from zhengyun.data_resources.models import ResourceVersion
from zhengyun.organizations.services import current_operator

VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
# The EU Publications Office's authority tables DCAT-AP takes its codes from.
FREQUENCY = Namespace("http://publications.europa.eu/resource/authority/frequency/")
LANGUAGE = URIRef("http://publications.europa.eu/resource/authority/language/ZHO")
PUBLIC = URIRef("http://publications.europa.eu/resource/authority/access-right/PUBLIC")
FREQUENCIES = {
    UpdateCycle.REAL_TIME: FREQUENCY.UPDATE_CONT,
    UpdateCycle.DAILY: FREQUENCY.DAILY,
    UpdateCycle.WEEKLY: FREQUENCY.WEEKLY,
    UpdateCycle.MONTHLY: FREQUENCY.MONTHLY,
    UpdateCycle.QUARTERLY: FREQUENCY.QUARTERLY,
    UpdateCycle.HALF_YEARLY: FREQUENCY.ANNUAL_2,
    UpdateCycle.YEARLY: FREQUENCY.ANNUAL,
    UpdateCycle.IRREGULAR: FREQUENCY.IRREG,
}
FORMATS = {"turtle": "text/turtle", "json-ld": "application/ld+json"}


def open_versions():
    """The current versions of resources open to the public."""
    return (
        ResourceVersion.objects.filter(is_current=True, open_to_public=True)
        .exclude(share_type=ShareType.NONE)
        .select_related("department")
        .order_by("code")
    )


def open_version(resource_id):
    """The current version of resource ``resource_id`` if it is open, else ``None``."""
    return open_versions().filter(resource_id=resource_id).first()


def catalog_graph(base_url):
    """The open catalog as an RDF graph, its nodes named under ``base_url`` (the platform's
    own address, without a trailing slash)."""
    graph = Graph()
    graph.bind("dcat", DCAT)
    graph.bind("dct", DCTERMS)
    graph.bind("foaf", FOAF)
    graph.bind("vcard", VCARD)
    catalog = URIRef(f"{base_url}/catalog")
    operator = current_operator()
    title = f"{operator.name}政务数据开放目录" if operator else "政务数据开放目录"
    graph.add((catalog, RDF.type, DCAT.Catalog))
    graph.add((catalog, DCTERMS.title, Literal(title, lang="zh")))
    graph.add(
        (
            catalog,
            DCTERMS.description,
            Literal("向社会开放的政务信息资源（按《政务信息资源目录编制指南》编目）。", lang="zh"),
        )
    )
    graph.add((catalog, DCTERMS.publisher, _agent(graph, base_url, operator)))
    graph.add((catalog, DCTERMS.language, LANGUAGE))
    graph.add((catalog, FOAF.homepage, URIRef(f"{base_url}/open-data/")))
    agents = {}
    for version in open_versions():
        dataset = URIRef(f"{base_url}/open-data/{version.resource_id}")
        graph.add((catalog, DCAT.dataset, dataset))
        _describe(graph, dataset, version, base_url, agents)
    return graph


def serialized(base_url, kind):
    """The open catalog as text of ``kind`` (a key of ``FORMATS``)."""
    return catalog_graph(base_url).serialize(format=kind)


def _describe(graph, dataset, version, base_url, agents):
    meta = version.metadata
    department = version.department
    if department.pk not in agents:
        agents[department.pk] = _agent(graph, base_url, department=department)
    graph.add((dataset, RDF.type, DCAT.Dataset))
    graph.add((dataset, DCTERMS.identifier, Literal(version.code)))
    graph.add((dataset, DCTERMS.title, Literal(version.name, lang="zh")))
    graph.add((dataset, DCTERMS.description, Literal(meta["abstract"], lang="zh")))
    graph.add((dataset, DCTERMS.publisher, agents[department.pk]))
    graph.add((dataset, DCTERMS.modified, Literal(version.published_on, datatype=XSD.date)))
    graph.add((dataset, DCTERMS.accrualPeriodicity, FREQUENCIES[version.update_cycle]))
    graph.add((dataset, DCTERMS.language, LANGUAGE))
    graph.add((dataset, DCTERMS.accessRights, PUBLIC))
    graph.add((dataset, OWL.versionInfo, Literal(str(version.number))))
    for item in meta["items"]:
        if item["share_type"] != ShareType.NONE:
            graph.add((dataset, DCAT.keyword, Literal(item["name"], lang="zh")))
    for code in meta["related_codes"]:
        graph.add((dataset, DCTERMS.relation, Literal(code)))
    contact = BNode()
    graph.add((dataset, DCAT.contactPoint, contact))
    graph.add((contact, RDF.type, VCARD.Organization))
    graph.add((contact, VCARD.fn, Literal(meta["maintainer"]["name"], lang="zh")))
    graph.add((contact, VCARD.hasTelephone, Literal(meta["maintainer"]["telephone"])))
    distribution = URIRef(f"{dataset}#distribution")
    graph.add((dataset, DCAT.distribution, distribution))
    graph.add((distribution, RDF.type, DCAT.Distribution))
    graph.add((distribution, DCAT.accessURL, dataset))
    if meta["open"]["conditions"]:
        graph.add((distribution, DCTERMS.rights, Literal(meta["open"]["conditions"], lang="zh")))


def _agent(graph, base_url, operator=None, department=None):
    """The catalog's publisher (the platform's operator) or a dataset's (its provider)."""
    if department is not None:
        node = URIRef(f"{base_url}/open-data/providers/{department.uscc}")
        name, identifier = department.name, department.uscc
    else:
        node = URIRef(f"{base_url}/open-data/publisher")
        name, identifier = (operator.name if operator else "政务云平台"), None
    graph.add((node, RDF.type, FOAF.Agent))
    graph.add((node, FOAF.name, Literal(name, lang="zh")))
    if identifier:
        graph.add((node, DCTERMS.identifier, Literal(identifier)))
    return node
