"""Chroma side of the index benchmark (system c): create the collection with the same HNSW settings,
bulk-add the same float32 vectors, and change ef_search between sweep points. Queries are sent by the
Node bench over Chroma's REST API with the same HTTP client it uses for our router.

usage: python chroma_driver.py ingest URL NAME METRIC DIM N VECTORS.f32 M EF_CONSTRUCTION
       python chroma_driver.py set-ef URL NAME EF
Prints one JSON line.
"""
import json
import sys
import time
from urllib.parse import urlparse

import chromadb
import numpy as np


def client(url: str):
    u = urlparse(url)
    return chromadb.HttpClient(host=u.hostname, port=u.port)


def ingest(url, name, metric, dim, n, path, m, efc):
    c = client(url)
    vectors = np.fromfile(path, dtype="<f4").reshape(int(n), int(dim))
    col = c.create_collection(
        name,
        configuration={
            "hnsw": {
                "space": metric,
                "max_neighbors": int(m),
                "ef_construction": int(efc),
                "ef_search": 10,
            }
        },
        embedding_function=None,
    )
    step = min(c.get_max_batch_size(), 5000)
    t0 = time.perf_counter()
    for at in range(0, len(vectors), step):
        col.add(ids=[f"v{i}" for i in range(at, min(at + step, len(vectors)))], embeddings=vectors[at : at + step])
    seconds = time.perf_counter() - t0
    print(json.dumps({"id": str(col.id), "seconds": seconds, "count": col.count(), "version": chromadb.__version__, "configuration": str(col.configuration_json)}))


def set_ef(url, name, ef):
    col = client(url).get_collection(name)
    col.modify(configuration={"hnsw": {"ef_search": int(ef)}})
    print(json.dumps({"ef": int(ef), "configuration": str(col.configuration_json)}))


if __name__ == "__main__":
    cmd, *args = sys.argv[1:]
    if cmd == "ingest":
        ingest(*args)
    elif cmd == "set-ef":
        set_ef(*args)
    else:
        raise SystemExit(f"unknown command {cmd}")
