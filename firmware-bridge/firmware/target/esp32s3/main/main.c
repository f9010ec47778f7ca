/*
 * Reference sensor node: ESP32-S3 + IIS3DWB (3 axes, 26,667 Hz, int16),
 * Faultline frames over UART (COBS) and, with FL_WITH_MQTT, over MQTT.
 * Needs ESP-IDF v5.x; the logic lives in app/fl_node.c, tested on the host.
 */
#ifndef ESP_PLATFORM
#error "main.c is built with ESP-IDF (idf.py build), not on the host"
#endif

#include <stdio.h>

#include "esp_log.h"
#include "esp_sntp.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "nvs_flash.h"

#include "app/fl_node.h"
#include "hal.h"

#ifdef FL_WITH_MQTT
#include "mqtt_client.h"
#include "protocol_examples_common.h" /* Wi-Fi from menuconfig */
extern esp_mqtt_client_handle_t hal_mqtt_client;
void hal_mqtt_set_connected(int connected);
#endif

#define FL_SENSOR_ID 1u
#define FL_SAMPLES_PER_FRAME 512u /* per axis: 19.2 ms, 3116-byte frames */
#define FL_MQTT_TOPIC "faultline/site1/pump3/1/raw"
#define FL_MQTT_URI "mqtt://gateway.local"

static const char *TAG = "faultline";
static fl_node s_node;
static uint8_t s_tx[32768]; /* ~10 frames of slack for the UART */
static int16_t s_half0[3 * FL_SAMPLES_PER_FRAME];
static int16_t s_half1[3 * FL_SAMPLES_PER_FRAME];

#ifdef FL_WITH_MQTT
static void mqtt_event(void *arg, esp_event_base_t base, int32_t id, void *data)
{
    (void)arg;
    (void)base;
    (void)data;
    if (id == MQTT_EVENT_CONNECTED) {
        hal_mqtt_set_connected(1);
    } else if (id == MQTT_EVENT_DISCONNECTED) {
        hal_mqtt_set_connected(0);
    }
}

static void start_network(void)
{
    esp_mqtt_client_config_t cfg = {.broker.address.uri = FL_MQTT_URI};
    ESP_ERROR_CHECK(esp_netif_init());
    ESP_ERROR_CHECK(esp_event_loop_create_default());
    ESP_ERROR_CHECK(example_connect());
    esp_sntp_setoperatingmode(SNTP_OPMODE_POLL);
    esp_sntp_setservername(0, "pool.ntp.org");
    esp_sntp_init();
    hal_mqtt_client = esp_mqtt_client_init(&cfg);
    esp_mqtt_client_register_event(hal_mqtt_client, ESP_EVENT_ANY_ID, mqtt_event, NULL);
    esp_mqtt_client_start(hal_mqtt_client);
}
#endif

void app_main(void)
{
    int16_t *const halves[2] = {s_half0, s_half1};
    hal_accel_info info;
    fl_node_cfg cfg = {0};

    ESP_ERROR_CHECK(nvs_flash_init());
#ifdef FL_WITH_MQTT
    start_network();
    cfg.mqtt_topic = FL_MQTT_TOPIC;
#endif
    if (hal_accel_init(&info) != 0) {
        ESP_LOGE(TAG, "IIS3DWB not found on SPI2");
        return;
    }
    cfg.sensor_id = FL_SENSOR_ID;
    cfg.channels = info.channels;
    cfg.sample_rate_hz = info.sample_rate_hz;
    cfg.scale_g_per_lsb = info.scale_g_per_lsb;
    cfg.samples_per_frame = FL_SAMPLES_PER_FRAME;
    cfg.uart_enabled = 1;
    if (fl_node_init(&s_node, &cfg, s_tx, sizeof s_tx) != 0) {
        ESP_LOGE(TAG, "invalid node configuration");
        return;
    }
    /* ESP_LOG goes to the same UART: silence it once frames flow. A leading
     * 0x00 ends whatever text the receiver saw, so it resynchronises. */
    esp_log_level_set("*", ESP_LOG_NONE);
    {
        static const uint8_t delimiter = 0x00;
        hal_uart_write(&delimiter, 1);
    }
    if (hal_spi_dma_start(s_half0, s_half1, 3 * FL_SAMPLES_PER_FRAME, fl_node_half_done, &s_node) != 0) {
        return;
    }
    for (;;) {
        fl_node_poll(&s_node, halves);
        vTaskDelay(1); /* 1 tick; a frame is 19.2 ms, the TX ring holds ~10 */
    }
}
