// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include "pin.h"
#include "util.h"

#define BPF_FS_MAGIC 0xcafe4a11

static bool pid_alive(long pid)
{
	return kill(pid, 0) == 0 || errno == EPERM;
}

static void remove_dir(const char *dir)
{
	struct dirent *de;
	char path[512];
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			unlink(path);
		}
	closedir(d);
	rmdir(dir);
}

/* Remove PIN_ROOT/PID folders whose watch is gone. */
static void remove_stale(void)
{
	struct dirent *de;
	char path[512], *end;
	DIR *d = opendir(PIN_ROOT);
	long pid;

	if (!d)
		return;
	while ((de = readdir(d))) {
		pid = strtol(de->d_name, &end, 10);
		if (de->d_name[0] == '.' || *end || pid <= 0 || pid_alive(pid))
			continue;
		snprintf(path, sizeof(path), PIN_ROOT "/%s", de->d_name);
		remove_dir(path);
		fprintf(stderr, "protomix: removed the pins of a killed watch (%s)\n", path);
	}
	closedir(d);
}

int pin_maps(struct bpf_object *obj, char *dir, size_t len)
{
	struct statfs fs;
	struct bpf_map *map;
	char path[512];
	int err;

	dir[0] = 0;
	if (statfs("/sys/fs/bpf", &fs) || fs.f_type != BPF_FS_MAGIC)
		return 0;
	remove_stale();
	if (mkdir(PIN_ROOT, 0700) && errno != EEXIST)
		goto fail;
	snprintf(dir, len, PIN_ROOT "/%d", (int)getpid());
	if (mkdir(dir, 0700) && errno != EEXIST)
		goto fail;
	bpf_object__for_each_map(map, obj) {
		if (strchr(bpf_map__name(map), '.'))
			continue;	/* .rodata, .bss: not for bpftool users */
		snprintf(path, sizeof(path), "%s/%s", dir, bpf_map__name(map));
		err = bpf_map__pin(map, path);
		if (err) {
			errno = -err;
			goto fail;
		}
	}
	return 0;
fail:
	err = -errno;
	pm_err("cannot pin the maps under %s: %s", dir[0] ? dir : PIN_ROOT,
	       strerror(errno));
	unpin_maps(obj, dir);
	dir[0] = 0;
	return err;
}

void unpin_maps(struct bpf_object *obj, const char *dir)
{
	struct bpf_map *map;

	if (!dir || !dir[0])
		return;
	bpf_object__for_each_map(map, obj)
		if (bpf_map__is_pinned(map))
			bpf_map__unpin(map, NULL);
	remove_dir(dir);
	rmdir(PIN_ROOT);	/* only if no other watch pinned there */
}
