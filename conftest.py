"""Repository-wide pytest hooks (tests/, notebooks/ and assignments/)."""

# nbval waits only 5 s for each output message of a cell (a hard-coded attribute, no option),
# which flakes on a loaded 2-core runner while TensorFlow starts or a model trains.
NBVAL_OUTPUT_TIMEOUT_S = 120


def pytest_collection_modifyitems(items):
    for item in items:
        if hasattr(item, "output_timeout"):
            item.output_timeout = NBVAL_OUTPUT_TIMEOUT_S
