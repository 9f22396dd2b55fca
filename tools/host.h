/*
 * host.h - facts of this host and process, read from their sources: the
 * libaio.so.1 the loader picked, /proc files, file system types.
 */
#ifndef UAIO_HOST_H
#define UAIO_HOST_H

#include <stddef.h>

/* The libaio.so.1 this process loaded (the one that defines uaio_version):
 * its absolute path, or -errno. */
int uaio_lib_path(char *buf, size_t len);

/* A read-only file's first line, without the newline; -errno. */
int read_line(const char *path, char *buf, size_t len);
/* A /proc/sys-style file holding one integer; -errno. */
int read_long(const char *path, long long *v);

/* The name of a file system type from statfs's f_type ("ext4", ...). */
const char *fs_name(long f_type, char *buf, size_t len);

#endif
