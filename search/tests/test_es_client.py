"""search.backends.elasticsearch builds on modelsearch's backend for the installed client's major version."""

import importlib
import importlib.util

import elasticsearch
import pytest
from django.core.exceptions import ImproperlyConfigured

from search.backends import elasticsearch as backend

PATH = backend.__file__


def load_with_client(monkeypatch, version):
    """A fresh copy of the backend module, imported as if the given client version were installed."""
    monkeypatch.setattr(elasticsearch, "__versionstr__", version)
    spec = importlib.util.spec_from_file_location(f"_es_backend_{version.replace('.', '_')}", PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def bases(module, major):
    modelsearch = importlib.import_module(f"modelsearch.backends.elasticsearch{major}")
    pairs = [
        (module.ChineseElasticsearchSearchBackend, "SearchBackend"),
        (module.ChineseElasticsearchMapping, "Mapping"),
        (module.ChineseElasticsearchIndex, "Index"),
        (module.ChineseElasticsearchQueryCompiler, "SearchQueryCompiler"),
        (module.ChineseElasticsearchResults, "SearchResults"),
    ]
    return [issubclass(cls, getattr(modelsearch, f"Elasticsearch{major}{name}")) for cls, name in pairs]


def test_installed_client_selects_its_major():
    major = int(elasticsearch.__versionstr__.split(".")[0])
    assert backend.CLIENT_MAJOR == major
    assert all(bases(backend, major))


@pytest.mark.parametrize("version,major", [("8.19.3", 8), ("9.5.1", 9)])
def test_each_supported_major(monkeypatch, version, major):
    module = load_with_client(monkeypatch, version)
    assert module.CLIENT_MAJOR == major
    assert all(bases(module, major))
    if major == 8:
        assert not any(bases(module, 9))  # ES 9 classes are not in the chain for an 8.x client


def test_other_majors_are_refused(monkeypatch):
    with pytest.raises(ImproperlyConfigured):
        load_with_client(monkeypatch, "7.17.0")
