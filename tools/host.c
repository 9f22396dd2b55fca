/*
 * host.c - the loaded library's path, /proc reads, file system names.
 */
#include "host.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uaio.h>

int uaio_lib_path(char *buf, size_t len)
{
	char dir[PATH_MAX], real[PATH_MAX];
	const char *base;
	Dl_info info;

	if (!dladdr((void *)uaio_version, &info) || !info.dli_fname ||
	    !info.dli_fname[0])
		return -ENOENT;
	/* The directory made absolute, the name kept as the loader found it
	 * (libaio.so.1, not the file the symlink points to). */
	base = strrchr(info.dli_fname, '/');
	if (base) {
		snprintf(dir, sizeof(dir), "%.*s", (int)(base - info.dli_fname),
			 info.dli_fname);
		base++;
	} else {
		snprintf(dir, sizeof(dir), ".");
		base = info.dli_fname;
	}
	if (!realpath(dir[0] ? dir : "/", real))
		return -errno;
	if ((size_t)snprintf(buf, len, "%s/%s", strcmp(real, "/") ? real : "",
			     base) >= len)
		return -ERANGE;
	return 0;
}

int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	int ret = 0;

	if (!f)
		return -errno;
	if (!fgets(buf, (int)len, f))
		ret = ferror(f) ? -EIO : -ENODATA;
	else
		buf[strcspn(buf, "\n")] = 0;
	fclose(f);
	return ret;
}

int read_long(const char *path, long long *v)
{
	char buf[64], *end;
	int ret = read_line(path, buf, sizeof(buf));

	if (ret)
		return ret;
	errno = 0;
	*v = strtoll(buf, &end, 10);
	if (errno || end == buf)
		return -EINVAL;
	return 0;
}

const char *fs_name(long f_type, char *buf, size_t len)
{
	static const struct {
		unsigned long magic;
		const char *name;
	} fs[] = {
	    {0xef53, "ext4"},	       {0x58465342, "xfs"},
	    {0x9123683e, "btrfs"},     {0x01021994, "tmpfs"},
	    {0x794c7630, "overlayfs"}, {0x6969, "nfs"},
	    {0x2fc12fc1, "zfs"},       {0xf2f52010, "f2fs"},
	    {0x65735546, "fuse"},      {0x62646576, "bdev"},
	    {0x858458f6, "ramfs"},     {0xff534d42, "cifs"},
	    {0x4d44, "vfat"},	       {0x5346544e, "ntfs"},
	    {0x01021997, "9p"},	       {0x73717368, "squashfs"},
	};

	for (size_t i = 0; i < sizeof(fs) / sizeof(fs[0]); i++)
		if ((unsigned long)f_type == fs[i].magic)
			return fs[i].name;
	snprintf(buf, len, "fs 0x%lx", (unsigned long)f_type);
	return buf;
}
