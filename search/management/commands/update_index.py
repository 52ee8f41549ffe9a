"""Wagtail's update_index, with the jieba analysis of large batches shared between all cores.

Batches are read by primary key ranges (no OFFSET, so the last batch costs what the first does), and while the
other processes analyse one batch this process writes the previous one and reads the next (an index with
``prepare_items``/``write_items``; others get ``add_items`` as in modelsearch). Such an index reads only the columns
its search fields need (``indexed_queryset``), the model may load what its search attributes read per batch
(``load_search_attributes``), and SQLite inserts the entries in a writer thread (``background_writes``).
"""

import contextlib
import gc

from modelsearch.backends import get_search_backend
from modelsearch.index import get_indexed_models
from modelsearch.management.commands.rebuild_modelsearch_index import (
    DEFAULT_CHUNK_SIZE,
    group_models_by_index,
)
from modelsearch.management.commands.rebuild_modelsearch_index import Command as RebuildCommand

from search.analysis import parallel_analysis


class Command(RebuildCommand):
    def handle(self, **options):
        # Everything loaded so far lives as long as the command: the collector need not walk it again (nor touch
        # it in the forked processes, which would copy their memory). Collections run once per batch instead.
        enabled = gc.isenabled()
        gc.freeze()
        gc.disable()
        try:
            with parallel_analysis():
                return super().handle(**options)
        finally:
            gc.unfreeze()
            if enabled:
                gc.enable()

    def update_backend(self, backend_name, schema_only=False, chunk_size=DEFAULT_CHUNK_SIZE):
        # modelsearch's update_backend, with the batches pipelined (see the module docstring).
        self.write("Updating backend: " + backend_name)
        backend = get_search_backend(backend_name)
        if not backend.rebuilder_class:
            self.write(f"Backend '{backend_name}' doesn't require rebuilding")
            return
        models_grouped_by_index = group_models_by_index(backend, get_indexed_models()).items()
        if not models_grouped_by_index:
            self.write(f"{backend_name}: No indices to rebuild")
        for index, models in models_grouped_by_index:
            self.write(f"{backend_name}: Rebuilding index {index}")
            rebuilder = backend.rebuilder_class(index)
            index = rebuilder.start()
            for model in models:
                index.add_model(model)
            object_count = 0
            if not schema_only:
                for model in models:
                    self.write(f"{backend_name}: {model._meta.app_label}.{model.__name__} ".ljust(35), ending="")
                    object_count += self.index_model(index, model, chunk_size)
                    self.print_newline()
            rebuilder.finish()
            self.write(f"{backend_name}: indexed {object_count} objects")
            self.print_newline()

    def index_model(self, index, model, chunk_size):
        """Index every object of model, chunk by chunk; the number of objects."""
        batched = hasattr(index, "prepare_items")
        queryset = model.get_indexed_objects().order_by("pk")
        if batched:
            queryset = index.indexed_queryset(model, queryset)
        chunks = self.queryset_chunks(queryset, chunk_size)
        writes = getattr(index, "background_writes", None) if batched else None
        with writes() if writes else contextlib.nullcontext():
            count = self._index_chunks(index, model, chunks, batched)
        return count

    def _index_chunks(self, index, model, chunks, batched):
        count, pending, previous = 0, None, []
        load_attributes = getattr(model, "load_search_attributes", None) if batched else None
        for chunk in self.print_iter_progress(chunks):
            if load_attributes:
                load_attributes(chunk)
            if batched:
                prepared = index.prepare_items(model, chunk)
                if pending is not None:
                    index.write_items(pending)
                release(previous)
                pending, previous = prepared, chunk
            else:
                index.add_items(model, chunk)
                release(chunk)
            count += len(chunk)
            gc.collect()
        if pending is not None:
            index.write_items(pending)
        release(previous)
        return count

    def queryset_chunks(self, qs, chunk_size=DEFAULT_CHUNK_SIZE):
        """Lists of at most chunk_size objects of qs (ordered by pk), each read after the last pk of the one before."""
        last = None
        while True:
            items = list((qs if last is None else qs.filter(pk__gt=last))[:chunk_size])
            if not items:
                return
            yield items
            last = items[-1].pk


def release(objs):
    """Untie written objects from their prefetched relations (which point back at them), so they are freed as soon
    as the batch is dropped rather than by the collector."""
    for obj in objs:
        obj.__dict__.pop("_prefetched_objects_cache", None)
