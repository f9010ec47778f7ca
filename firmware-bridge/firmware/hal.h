/*
 * The hardware the node needs, and nothing more. Each target implements it
 * (target/esp32s3/hal_esp32s3.c); the host tests implement it with a fake
 * (tests/hal_fake.c), so the app logic in app/ is tested on a PC.
 */
#ifndef FL_HAL_H
#define FL_HAL_H

#include <stddef.h>
#include <stdint.h>

/* What the accelerometer was configured to, reported by hal_accel_init. */
typedef struct {
    float sample_rate_hz;   /* output data rate per channel, Hz */
    float scale_g_per_lsb;  /* sensitivity at the configured range, g/LSB */
    uint8_t channels;       /* interleaved axes delivered (1 or 3) */
} hal_accel_info;

/*
 * Called (interrupt or driver-task context) when one half of the double
 * buffer holds `values_per_half` new interleaved int16 values. `t_last_us`
 * is hal_clock_us() at the last sample (watermark interrupt time). Keep it
 * short: it only records which half is ready.
 */
typedef void (*hal_half_done_fn)(void *ctx, unsigned half, uint64_t t_last_us);

/* Probe and configure the accelerometer over SPI. Returns 0, or < 0 (absent). */
int hal_accel_init(hal_accel_info *info);

/*
 * Start continuous acquisition: SPI DMA fills half0, then half1, then half0…
 * and calls cb after each. Returns 0, or < 0 when the bus cannot start.
 */
int hal_spi_dma_start(int16_t *half0, int16_t *half1, size_t values_per_half,
                      hal_half_done_fn cb, void *ctx);

/* Non-blocking UART write: queues what fits, returns the bytes accepted. */
size_t hal_uart_write(const uint8_t *data, size_t len);

/* Microseconds since the Unix epoch once the clock is set (SNTP, gateway),
 * else since boot; monotonic between settings. */
uint64_t hal_clock_us(void);

/* Shaft speed from the tachometer / speed input, rpm; 0 when none or stale. */
float hal_tach_rpm(void);

/* Publish one MQTT message (QoS 0). Returns 0, or < 0 when not connected.
 * Targets without Wi-Fi return -1. */
int hal_mqtt_publish(const char *topic, const uint8_t *payload, size_t len);

#endif
