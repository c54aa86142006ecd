"""The open part of the catalog for everyone (R-D1, R-D4): the public portal pages and the
DCAT-AP export, read back with rdflib as a harvester would read it."""

import pytest
from rdflib import RDF, Graph, Literal, URIRef, namespace
from rdflib.compare import isomorphic

from zhengyun.testing.catalog import open_licences, published_resource

pytestmark = pytest.mark.django_db

FREQUENCY = "http://publications.europa.eu/resource/authority/frequency/"
# rdflib's namespaces are reached through their module: pytest's collection looks into a
# test module's names, and a namespace warns at every name it does not define.


@pytest.fixture
def opened(world):
    """An open resource with one withheld item, and a conditional one not open."""
    licences = open_licences(world)
    population = published_resource(world, world.department_a, world.staff_a)
    return licences, population


def test_a_harvester_reads_the_open_catalog_as_dcat(opened, client, world):
    licences, _population = opened
    turtle = client.get("/catalog.ttl")
    assert turtle.status_code == 200 and turtle["Content-Type"].startswith("text/turtle")
    graph = Graph().parse(data=turtle.content.decode(), format="turtle")
    datasets = list(graph.subjects(RDF.type, namespace.DCAT.Dataset))
    assert datasets == [URIRef(f"http://testserver/open-data/{licences.pk}")]
    dataset = datasets[0]
    assert graph.value(dataset, namespace.DCTERMS.identifier) == Literal("102001/000001")
    assert graph.value(dataset, namespace.DCTERMS.title) == Literal(
        "企业法人营业执照登记信息", lang="zh"
    )
    publisher = graph.value(dataset, namespace.DCTERMS.publisher)
    assert graph.value(publisher, namespace.FOAF.name) == Literal(
        world.department_b.name, lang="zh"
    )
    assert graph.value(publisher, namespace.DCTERMS.identifier) == Literal(world.department_b.uscc)
    assert graph.value(dataset, namespace.DCTERMS.accrualPeriodicity) == URIRef(FREQUENCY + "DAILY")
    keywords = {str(k) for k in graph.objects(dataset, namespace.DCAT.keyword)}
    assert keywords == {"企业名称", "统一社会信用代码"}  # never the withheld item
    catalog = next(graph.subjects(RDF.type, namespace.DCAT.Catalog))
    assert list(graph.objects(catalog, namespace.DCAT.dataset)) == [dataset]
    assert graph.value(catalog, namespace.DCTERMS.title) is not None

    jsonld = client.get("/catalog.jsonld")
    assert jsonld["Content-Type"].startswith("application/ld+json")
    assert isomorphic(graph, Graph().parse(data=jsonld.content.decode(), format="json-ld"))


def test_the_portal_shows_open_resources_to_anyone(opened, client):
    licences, population = opened
    listed = client.get("/open-data/").content.decode()
    assert "企业法人营业执照登记信息" in listed and "户籍人口基本信息" not in listed
    page = client.get(f"/open-data/{licences.pk}").content.decode()
    assert "统一社会信用代码" in page and "注明数据来源" in page
    assert "法定代表人证件号码" not in page
    assert client.get(f"/open-data/{population.pk}").status_code == 404
