// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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
#define BPF_FS "/sys/fs/bpf"
#define PIN_NAME "protomix"

/* A folder of ours to work in: a real folder (fd opened O_NOFOLLOW),
 * owned by us or root, not writable by group or others. */
static bool dir_ours(int fd, const char *what)
{
	struct stat st;

	if (fstat(fd, &st) || !S_ISDIR(st.st_mode))
		return false;
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		pm_err("%s is owned by uid %u, not by us or root: not used (remove it)",
		       what, (unsigned)st.st_uid);
		return false;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		pm_err("%s is writable by group or others (mode %03o): not used (remove it)",
		       what, (unsigned)(st.st_mode & 0777));
		return false;
	}
	return true;
}

/* The maps a watch pins, by name (what a stale folder may hold). */
static bool pinned_name(struct bpf_object *obj, const char *name)
{
	struct bpf_map *map;

	bpf_object__for_each_map(map, obj)
		if (!strchr(bpf_map__name(map), '.') &&
		    !strcmp(bpf_map__name(map), name))
			return true;
	return false;
}

/* In the folder PIN_ROOT/NAME (opened relative to root, never through a
 * symlink), remove the pins protomix makes, by name, then the folder if
 * that emptied it. Anything else stays. */
static void remove_pins(int root, const char *name, struct bpf_object *obj)
{
	struct dirent *de;
	struct stat st;
	char what[128];
	int fd, dfd;
	DIR *d;

	fd = openat(root, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	snprintf(what, sizeof(what), PIN_ROOT "/%s", name);
	if (!dir_ours(fd, what) || (dfd = dup(fd)) < 0 || !(d = fdopendir(dfd))) {
		close(fd);
		return;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !pinned_name(obj, de->d_name))
			continue;
		/* a pinned map is a regular file of the bpffs */
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISREG(st.st_mode))
			continue;
		unlinkat(fd, de->d_name, 0);
	}
	closedir(d);
	close(fd);
	unlinkat(root, name, AT_REMOVEDIR);	/* only if now empty */
}

/* Remove the pins of watches that are gone (PIN_ROOT/PID, PID dead). */
static void remove_stale(int root, struct bpf_object *obj)
{
	struct dirent *de;
	char *end;
	long pid;
	DIR *d;
	int fd = dup(root);

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d))) {
		pid = strtol(de->d_name, &end, 10);
		if (de->d_name[0] == '.' || *end || pid <= 0 || pid_alive(pid))
			continue;
		remove_pins(root, de->d_name, obj);
		if (faccessat(root, de->d_name, F_OK, AT_SYMLINK_NOFOLLOW))
			fprintf(stderr, "protomix: removed the pins of a killed watch ("
				PIN_ROOT "/%s)\n", de->d_name);
	}
	closedir(d);
}

/* PIN_ROOT, made if missing (0700), opened if it is ours; -1 if not. */
static int open_root(void)
{
	int bpffs, fd;

	bpffs = open(BPF_FS, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (bpffs < 0)
		return -1;
	if (mkdirat(bpffs, PIN_NAME, 0700) && errno != EEXIST) {
		pm_err("cannot create " PIN_ROOT ": %s", strerror(errno));
		close(bpffs);
		return -1;
	}
	fd = openat(bpffs, PIN_NAME, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		pm_err(PIN_ROOT " is %s: not used (remove it)",
		       errno == ENOTDIR || errno == ELOOP ? "not a folder" : strerror(errno));
	close(bpffs);
	if (fd >= 0 && !dir_ours(fd, PIN_ROOT)) {
		close(fd);
		return -1;
	}
	return fd;
}

int pin_maps(struct bpf_object *obj, char *dir, size_t len)
{
	struct statfs fs;
	struct bpf_map *map;
	char name[32], path[512];
	int root, err;

	dir[0] = 0;
	if (statfs(BPF_FS, &fs) || fs.f_type != BPF_FS_MAGIC)
		return 0;
	root = open_root();
	if (root < 0)
		return -EPERM;
	remove_stale(root, obj);
	snprintf(name, sizeof(name), "%d", (int)getpid());
	remove_pins(root, name, obj);	/* an earlier process with our pid */
	if (mkdirat(root, name, 0700)) {
		err = -errno;
		pm_err("cannot create " PIN_ROOT "/%s: %s", name, strerror(errno));
		close(root);
		return err;
	}
	snprintf(dir, len, PIN_ROOT "/%s", name);
	/* Pinned through our descriptor of PIN_ROOT: the path is the folder
	 * we checked, whatever happens to the names above it. */
	bpf_object__for_each_map(map, obj) {
		if (strchr(bpf_map__name(map), '.'))
			continue;	/* .rodata, .bss: not for bpftool users */
		snprintf(path, sizeof(path), "/proc/self/fd/%d/%s/%s", root, name,
			 bpf_map__name(map));
		err = bpf_map__pin(map, path);
		if (err) {
			pm_err("cannot pin the maps under %s: %s", dir, strerror(-err));
			close(root);
			unpin_maps(obj, dir);
			dir[0] = 0;
			return err;
		}
	}
	close(root);
	return 0;
}

void unpin_maps(struct bpf_object *obj, const char *dir)
{
	const char *name;
	int root;

	if (!dir || !dir[0])
		return;
	/* by name in the folder we made (libbpf's pin paths went through a
	 * descriptor that is closed now) */
	root = open(PIN_ROOT, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (root < 0)
		return;
	name = strrchr(dir, '/');
	if (name)
		remove_pins(root, name + 1, obj);
	close(root);
	rmdir(PIN_ROOT);	/* only if no other watch pinned there */
}
