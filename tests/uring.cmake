# What the uring engine must add to io_uring to keep the AIO contract:
# requests that outlive the thread that submitted them.
uaio_test(thread-exit REF TIMEOUT 30 LABELS concurrency)
