// SPDX-License-Identifier: GPL-2.0
/*
 * rcvgov-bpf-floor OBJECT SECONDS: loads and attaches every program of
 * OBJECT that this kernel can run (one object per program, so a missing
 * tracepoint only leaves its own program out), prints "ready N", and keeps
 * them attached for SECONDS or until SIGTERM/SIGINT. A benchmark helper:
 * it finds the programs by the prog_id in this process's fdinfo.
 */
#include <bpf/libbpf.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int count_programs(const char *path)
{
	struct bpf_object *o = bpf_object__open_file(path, NULL);
	struct bpf_program *p;
	int n = 0;

	if (!o)
		return -1;
	bpf_object__for_each_program(p, o)
		n++;
	bpf_object__close(o);
	return n;
}

int main(int argc, char **argv)
{
	int i, j, n, attached = 0, secs;

	if (argc != 3) {
		fprintf(stderr, "usage: %s OBJECT SECONDS\n", argv[0]);
		return 2;
	}
	secs = atoi(argv[2]);
	libbpf_set_print(NULL);
	n = count_programs(argv[1]);
	if (n < 0) {
		fprintf(stderr, "%s: cannot open\n", argv[1]);
		return 1;
	}
	for (i = 0; i < n; i++) {
		struct bpf_object *o = bpf_object__open_file(argv[1], NULL);
		struct bpf_program *p, *want = NULL;

		if (!o)
			return 1;
		j = 0;
		bpf_object__for_each_program(p, o) {
			bpf_program__set_autoload(p, j == i);
			if (j++ == i)
				want = p;
		}
		/* Objects that load stay open (and attached) until exit. */
		if (bpf_object__load(o) || !bpf_program__attach(want)) {
			printf("absent %s\n", bpf_program__name(want));
			bpf_object__close(o);
			continue;
		}
		printf("attached %s\n", bpf_program__name(want));
		attached++;
	}
	printf("ready %d\n", attached);
	fflush(stdout);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	while (!stop && secs-- > 0)
		sleep(1);
	return attached ? 0 : 1;
}
