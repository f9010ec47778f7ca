/* A host implementation of hal.h for the unit tests: the UART is a capture
 * buffer that accepts at most `fake_uart_budget` bytes per call, the clock
 * and tach are settable, MQTT records the last publish. */
#include "hal_fake.h"

#include <string.h>

uint8_t fake_uart[1u << 20];
size_t fake_uart_len;
size_t fake_uart_budget = (size_t)-1;
uint64_t fake_clock_us;
float fake_rpm;
int fake_mqtt_connected;
unsigned fake_mqtt_count;
size_t fake_mqtt_last_len;
uint8_t fake_mqtt_last[FL_FRAME_MAX_BYTES];
hal_half_done_fn fake_cb;
void *fake_cb_ctx;

int hal_accel_init(hal_accel_info *info)
{
    info->sample_rate_hz = 26667.0f;
    info->scale_g_per_lsb = 0.000061f;
    info->channels = 3;
    return 0;
}

int hal_spi_dma_start(int16_t *half0, int16_t *half1, size_t values_per_half, hal_half_done_fn cb,
                      void *ctx)
{
    (void)half0;
    (void)half1;
    (void)values_per_half;
    fake_cb = cb;
    fake_cb_ctx = ctx;
    return 0;
}

size_t hal_uart_write(const uint8_t *data, size_t len)
{
    size_t n = len < fake_uart_budget ? len : fake_uart_budget;
    if (n > sizeof fake_uart - fake_uart_len) {
        n = sizeof fake_uart - fake_uart_len;
    }
    memcpy(fake_uart + fake_uart_len, data, n);
    fake_uart_len += n;
    return n;
}

uint64_t hal_clock_us(void)
{
    return fake_clock_us;
}

float hal_tach_rpm(void)
{
    return fake_rpm;
}

int hal_mqtt_publish(const char *topic, const uint8_t *payload, size_t len)
{
    (void)topic;
    if (!fake_mqtt_connected || len > sizeof fake_mqtt_last) {
        return -1;
    }
    memcpy(fake_mqtt_last, payload, len);
    fake_mqtt_last_len = len;
    fake_mqtt_count++;
    return 0;
}
