/* Guest side of the system suite's HID scanner (tests/system, docs/operations.md): a
 * keyboard-wedge barcode scanner made with the kernel's uinput, and a second reader that shows
 * whether someone else holds the device (EVIOCGRAB). Compiled on the host by system_test.py
 * and copied into the guest; it needs nothing but the C library.
 *
 *   vmhid keyboard NAME CTL   creates the keyboard NAME (USB ids 0x0c2e:0x0b61), prints its
 *                             /dev/input/eventN, then types every line written to the FIFO CTL
 *                             as a scanner does (US layout, Shift for capitals, GS 0x1d as
 *                             Ctrl+], Enter at the end). The line "QUIT" destroys the device
 *                             (an unplug) and exits.
 *   vmhid listen DEV SECONDS  opens DEV without grabbing, counts key presses for SECONDS and
 *                             prints "presses=N grab=free|busy" (busy: EVIOCGRAB failed with
 *                             EBUSY, someone holds the device; the test's own grab is
 *                             released at once).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <linux/uinput.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what) {
  fprintf(stderr, "vmhid: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void pause_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static void emit(int fd, int type, int code, int value) {
  struct input_event ev;
  memset(&ev, 0, sizeof ev);
  ev.type = (unsigned short)type;
  ev.code = (unsigned short)code;
  ev.value = value;
  if (write(fd, &ev, sizeof ev) != (ssize_t)sizeof ev) die("write event");
}

static void press(int fd, int mod, int key) {
  if (mod) emit(fd, EV_KEY, mod, 1), emit(fd, EV_SYN, SYN_REPORT, 0);
  emit(fd, EV_KEY, key, 1), emit(fd, EV_SYN, SYN_REPORT, 0);
  pause_ms(4);
  emit(fd, EV_KEY, key, 0), emit(fd, EV_SYN, SYN_REPORT, 0);
  if (mod) emit(fd, EV_KEY, mod, 0), emit(fd, EV_SYN, SYN_REPORT, 0);
  pause_ms(4);
}

/* US layout: the key and whether Shift is needed, for the characters barcode data uses. */
static int key_of(char c, int *shift) {
  static const char *rows[] = {"1234567890-=", "qwertyuiop[]", "asdfghjkl;'`", "\\zxcvbnm,./"};
  static const char *shifted[] = {"!@#$%^&*()_+", "QWERTYUIOP{}", "ASDFGHJKL:\"~", "|ZXCVBNM<>?"};
  static const int first[] = {KEY_1, KEY_Q, KEY_A, KEY_BACKSLASH};
  *shift = 0;
  if (c == ' ') return KEY_SPACE;
  for (int r = 0; r < 4; ++r) {
    const char *p = strchr(rows[r], c);
    if (p && c) return first[r] + (int)(p - rows[r]);
    p = strchr(shifted[r], c);
    if (p && c) return *shift = 1, first[r] + (int)(p - shifted[r]);
  }
  return -1;
}

static void type_line(int fd, const char *s) {
  for (; *s; ++s) {
    if (*s == 0x1d) {  /* GS (FNC1): Ctrl+] as keyboard-wedge scanners send it */
      press(fd, KEY_LEFTCTRL, KEY_RIGHTBRACE);
      continue;
    }
    int shift;
    int key = key_of(*s, &shift);
    if (key < 0) {
      fprintf(stderr, "vmhid: no key for byte 0x%02x\n", (unsigned char)*s);
      continue;
    }
    press(fd, shift ? KEY_LEFTSHIFT : 0, key);
  }
  press(fd, 0, KEY_ENTER);
}

static int keyboard(const char *name, const char *ctl) {
  int fd = open("/dev/uinput", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) die("open /dev/uinput");
  if (ioctl(fd, UI_SET_EVBIT, EV_KEY) < 0 || ioctl(fd, UI_SET_EVBIT, EV_SYN) < 0)
    die("UI_SET_EVBIT");
  for (int k = KEY_ESC; k <= KEY_KPDOT; ++k)  /* a full main block: udev calls it a keyboard */
    if (ioctl(fd, UI_SET_KEYBIT, k) < 0) die("UI_SET_KEYBIT");
  struct uinput_setup us;
  memset(&us, 0, sizeof us);
  us.id.bustype = BUS_USB;
  us.id.vendor = 0x0c2e;
  us.id.product = 0x0b61;
  us.id.version = 1;
  snprintf(us.name, sizeof us.name, "%s", name);
  if (ioctl(fd, UI_DEV_SETUP, &us) < 0) die("UI_DEV_SETUP");
  if (ioctl(fd, UI_DEV_CREATE) < 0) die("UI_DEV_CREATE");

  char sys[64] = {0}, path[300];
  if (ioctl(fd, UI_GET_SYSNAME(sizeof sys - 1), sys) < 0) die("UI_GET_SYSNAME");
  snprintf(path, sizeof path, "/sys/devices/virtual/input/%s", sys);
  const char *node = NULL;
  for (int tries = 0; !node && tries < 100; ++tries) {
    DIR *d = opendir(path);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
      if (strncmp(e->d_name, "event", 5) == 0) {
        static char dev[300];
        snprintf(dev, sizeof dev, "/dev/input/%s", e->d_name);
        node = dev;
      }
    if (d) closedir(d);
    if (!node) pause_ms(20);
  }
  printf("%s\n", node ? node : "?");
  fflush(stdout);

  int c = open(ctl, O_RDWR | O_CLOEXEC); /* RDWR: no EOF when a writer goes away */
  if (c < 0) die("open CTL");
  FILE *in = fdopen(c, "r");
  char line[1024];
  while (fgets(line, sizeof line, in)) {
    line[strcspn(line, "\n")] = 0;
    if (strcmp(line, "QUIT") == 0) break;
    type_line(fd, line);
  }
  ioctl(fd, UI_DEV_DESTROY);
  close(fd);
  return 0;
}

static int listen_dev(const char *dev, int seconds) {
  int fd = open(dev, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) die(dev);
  const char *grab = "free";
  if (ioctl(fd, EVIOCGRAB, 1) == 0)
    ioctl(fd, EVIOCGRAB, 0);
  else if (errno == EBUSY)
    grab = "busy";
  else
    die("EVIOCGRAB");
  long presses = 0;
  struct timespec t0, now;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (;;) {
    clock_gettime(CLOCK_MONOTONIC, &now);
    long left = seconds * 1000L - ((now.tv_sec - t0.tv_sec) * 1000L +
                                   (now.tv_nsec - t0.tv_nsec) / 1000000L);
    if (left <= 0) break;
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, (int)left) <= 0) continue;
    struct input_event ev[64];
    ssize_t n = read(fd, ev, sizeof ev);
    if (n < 0) {
      if (errno == EAGAIN) continue;
      if (errno == ENODEV) break;
      die("read");
    }
    for (ssize_t i = 0; i < n / (ssize_t)sizeof ev[0]; ++i)
      if (ev[i].type == EV_KEY && ev[i].value == 1) ++presses;
  }
  printf("presses=%ld grab=%s\n", presses, grab);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "keyboard") == 0) return keyboard(argv[2], argv[3]);
  if (argc == 4 && strcmp(argv[1], "listen") == 0) return listen_dev(argv[2], atoi(argv[3]));
  fprintf(stderr, "usage: vmhid keyboard NAME CTL | vmhid listen DEV SECONDS\n");
  return 2;
}
