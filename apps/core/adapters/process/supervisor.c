/*
 * eda-supervise STATUS_FILE PROGRAM [ARGUMENT...]
 *
 * The process runtime's supervisor: it runs PROGRAM as its child, waits for it, and writes how
 * it ended to STATUS_FILE as one line, "exit N" (the code the program chose) or "signal N" (the
 * signal that ended it). A shell's `$?` cannot tell exit(137) from SIGKILL; waitpid can. The file
 * outlives the stack, so a restarted stack learns the end of a task that ended while no stack ran
 * (a process that is not one's child cannot be waited for). Compiled by `npm run build`
 * (scripts/build-supervisor.mjs) with the system's `cc`; without one the runtime falls back to
 * a shell (apps/core/adapters/process/supervisor.ts says what that loses).
 *
 * It catches (does not ignore: an ignored signal stays ignored across exec) the signals a stop
 * sends its process group, so that it outlives its program and writes the status; SIGKILL to the
 * group takes it too, and the runtime records that end itself. The environment is passed on as
 * it came: exactly the spec's.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void on_signal(int signo) { (void)signo; }

/* One write, its newline last: a reader takes only a whole line, so no rename is needed. */
static void write_status(const char *path, const char *kind, int number) {
  char line[32];
  int length = snprintf(line, sizeof line, "%s %d\n", kind, number);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  ssize_t ignored = write(fd, line, (size_t)length);
  (void)ignored;
  close(fd);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: eda-supervise STATUS_FILE PROGRAM [ARGUMENT...]\n");
    return 2;
  }
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, NULL);
  sigaction(SIGTERM, &action, NULL);
  sigaction(SIGHUP, &action, NULL);
  /*
   * posix_spawn, not fork: glibc starts the child with vfork's shared memory (no page tables
   * copied), which halved this supervisor's CPU per task here (bench/README.md). The stops it
   * catches are held back until the child has them back at their defaults.
   */
  sigset_t stops, before;
  sigemptyset(&stops);
  sigaddset(&stops, SIGINT);
  sigaddset(&stops, SIGTERM);
  sigaddset(&stops, SIGHUP);
  sigprocmask(SIG_BLOCK, &stops, &before);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setsigmask(&attributes, &before);
  posix_spawnattr_setsigdefault(&attributes, &stops);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t child;
  int failed = posix_spawnp(&child, argv[2], NULL, &attributes, argv + 2, environ);
  sigprocmask(SIG_SETMASK, &before, NULL);
  if (failed) {
    /* As a shell says it and ends: 127 for a program not found, 126 for one that cannot run. */
    fprintf(stderr, "eda-supervise: %s: %s\n", argv[2], strerror(failed));
    write_status(argv[1], "exit", failed == ENOENT ? 127 : 126);
    return failed == ENOENT ? 127 : 126;
  }

  int status = 0;
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) {
      fprintf(stderr, "eda-supervise: waitpid: %s\n", strerror(errno));
      return 2;
    }
  }

  const char *kind = WIFSIGNALED(status) ? "signal" : "exit";
  int number = WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status);
  /* As a shell says it, to the container's log: its last line then tells why it ended. */
  if (WIFSIGNALED(status) && number != SIGINT && number != SIGPIPE) fprintf(stderr, "%s\n", strsignal(number));
  int code = WIFSIGNALED(status) ? 128 + number : number;
  write_status(argv[1], kind, number);
  return code;
}
