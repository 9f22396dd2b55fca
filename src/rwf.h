/*
 * rwf.h - the RWF_* flags of aio_rw_flags: the one list the library (the
 * kernel's RWF_SUPPORTED check, validate.c) and `uaio info` share.
 */
#ifndef UAIO_RWF_H
#define UAIO_RWF_H

struct uaio_rwf {
	unsigned bit;
	const char *name;
	unsigned since; /* the kernel that took it: major * 1000 + minor */
	const char *per_file; /* why a file may refuse it, NULL if none can */
};

static const struct uaio_rwf uaio_rwf_flags[] = {
    {0x01, "HIPRI", 4006, NULL},
    {0x02, "DSYNC", 4007, NULL},
    {0x04, "SYNC", 4007, NULL},
    {0x08, "NOWAIT", 4014, "the file must support non-blocking I/O"},
    {0x10, "APPEND", 4016, NULL},
    {0x20, "NOAPPEND", 6009, NULL},
    {0x40, "ATOMIC", 6011,
     "writes only, with O_DIRECT, on a file system and device that "
     "support atomic writes"},
    {0x80, "DONTCACHE", 6014, "the file system must support it (not on DAX)"},
    {0x100, "NOSIGNAL", 6015, NULL},
};
#define UAIO_NRWF (sizeof(uaio_rwf_flags) / sizeof(uaio_rwf_flags[0]))

#endif
