/* Guest side of the system suite: an MQTT subscriber (Paho C, which the guest has because the
 * agent depends on it). Compiled on the host by system_test.py and copied into the guest.
 *
 *   mqttsub URI FILTER SECONDS [UNTIL] [--ca F --cert F --key F --user U --pass P]
 *   mqttsub --pub URI TOPIC PAYLOAD   publishes PAYLOAD retained at QoS 1 (a probe's reading)
 *
 * Prints every message as "r=RETAINED TOPIC PAYLOAD" (one line, flushed). With UNTIL it exits 0
 * at the first message whose topic or payload contains UNTIL, and 1 if none came within
 * SECONDS; without it, it exits 0 after SECONDS. Exit 2: could not connect or subscribe.
 */
#include <MQTTClient.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int publish(const char *uri, const char *topic, const char *payload) {
  MQTTClient c;
  if (MQTTClient_create(&c, uri, "vmtest-pub", MQTTCLIENT_PERSISTENCE_NONE, NULL) !=
      MQTTCLIENT_SUCCESS)
    return 2;
  MQTTClient_connectOptions o = MQTTClient_connectOptions_initializer;
  int rc = MQTTClient_connect(c, &o);
  if (rc != MQTTCLIENT_SUCCESS) {
    fprintf(stderr, "mqttsub: connect to %s failed: %d\n", uri, rc);
    return 2;
  }
  MQTTClient_deliveryToken t;
  rc = MQTTClient_publish(c, topic, (int)strlen(payload), payload, 1, 1, &t);
  if (rc == MQTTCLIENT_SUCCESS) rc = MQTTClient_waitForCompletion(c, t, 5000);
  MQTTClient_disconnect(c, 1000);
  MQTTClient_destroy(&c);
  return rc == MQTTCLIENT_SUCCESS ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc == 5 && strcmp(argv[1], "--pub") == 0) return publish(argv[2], argv[3], argv[4]);
  if (argc < 4) {
    fprintf(stderr, "usage: mqttsub URI FILTER SECONDS [UNTIL] [--ca F --cert F --key F "
                    "--user U --pass P]\n");
    return 2;
  }
  const char *uri = argv[1], *filter = argv[2], *until = NULL;
  int seconds = atoi(argv[3]);
  const char *ca = NULL, *cert = NULL, *key = NULL, *user = NULL, *pass = NULL;
  for (int i = 4; i < argc; ++i) {
    if (i + 1 < argc && strcmp(argv[i], "--ca") == 0) ca = argv[++i];
    else if (i + 1 < argc && strcmp(argv[i], "--cert") == 0) cert = argv[++i];
    else if (i + 1 < argc && strcmp(argv[i], "--key") == 0) key = argv[++i];
    else if (i + 1 < argc && strcmp(argv[i], "--user") == 0) user = argv[++i];
    else if (i + 1 < argc && strcmp(argv[i], "--pass") == 0) pass = argv[++i];
    else until = argv[i];
  }
  char id[64];
  snprintf(id, sizeof id, "vmtest-sub-%ld", (long)time(NULL) ^ (long)clock());
  MQTTClient c;
  if (MQTTClient_create(&c, uri, id, MQTTCLIENT_PERSISTENCE_NONE, NULL) != MQTTCLIENT_SUCCESS)
    return 2;
  MQTTClient_connectOptions o = MQTTClient_connectOptions_initializer;
  MQTTClient_SSLOptions ssl = MQTTClient_SSLOptions_initializer;
  o.keepAliveInterval = 30;
  o.cleansession = 1;
  o.username = user;
  o.password = pass;
  if (ca) {
    ssl.trustStore = ca;
    ssl.keyStore = cert;
    ssl.privateKey = key;
    ssl.enableServerCertAuth = 1;
    o.ssl = &ssl;
  }
  int rc = MQTTClient_connect(c, &o);
  if (rc != MQTTCLIENT_SUCCESS) {
    fprintf(stderr, "mqttsub: connect to %s failed: %d\n", uri, rc);
    return 2;
  }
  if (MQTTClient_subscribe(c, filter, 1) != MQTTCLIENT_SUCCESS) {
    fprintf(stderr, "mqttsub: subscribe %s failed\n", filter);
    return 2;
  }
  printf("subscribed %s\n", filter);
  fflush(stdout);
  time_t end = time(NULL) + seconds;
  int found = 0;
  while (!found && time(NULL) < end) {
    char *topic = NULL;
    int len = 0;
    MQTTClient_message *m = NULL;
    rc = MQTTClient_receive(c, &topic, &len, &m, 500);
    if (rc != MQTTCLIENT_SUCCESS && rc != MQTTCLIENT_TOPICNAME_TRUNCATED) {
      fprintf(stderr, "mqttsub: receive failed: %d\n", rc);
      break;
    }
    if (!m) continue;
    printf("r=%d %s %.*s\n", m->retained, topic, m->payloadlen, (const char *)m->payload);
    fflush(stdout);
    if (until && (strstr(topic, until) ||
                  memmem(m->payload, (size_t)m->payloadlen, until, strlen(until))))
      found = 1;
    MQTTClient_freeMessage(&m);
    MQTTClient_free(topic);
  }
  MQTTClient_disconnect(c, 1000);
  MQTTClient_destroy(&c);
  return until && !found ? 1 : 0;
}
