/*
 * hal.h on an ESP32-S3 (ESP-IDF v5.x) with an IIS3DWB on SPI2.
 *
 * Acquisition: the IIS3DWB fills its FIFO at 26,667 Hz; when it holds
 * `values_per_half / channels` samples it raises INT1 (FIFO watermark). The
 * ISR only wakes the acquisition task, which reads the words in one SPI DMA
 * transaction, unpacks them into the half of the double buffer the node is
 * not reading, and reports the half. The ISR timestamp (esp_timer) of the
 * watermark is the time of the last sample.
 *
 * Wiring (change below): SCLK 12, MOSI 11, MISO 13, CS 10, INT1 9, tach 4;
 * UART0 on the USB-UART bridge at FL_UART_BAUD.
 */
#ifndef ESP_PLATFORM
#error "hal_esp32s3.c is built with ESP-IDF (idf.py build), not on the host"
#endif

#include <string.h>
#include <sys/time.h>

#include "driver/gpio.h"
#include "driver/spi_master.h"
#include "driver/uart.h"
#include "esp_attr.h"
#include "esp_heap_caps.h"
#include "esp_timer.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "mqtt_client.h"

#include "hal.h"
#include "iis3dwb.h"

#define PIN_SCLK 12
#define PIN_MOSI 11
#define PIN_MISO 13
#define PIN_CS 10
#define PIN_INT1 9
#define PIN_TACH 4
#define TACH_PULSES_PER_REV 1
#define TACH_STALE_US 2000000
#define FL_UART UART_NUM_0
#define FL_UART_BAUD 2000000 /* 3 axes x 26.7 kHz x int16 = 160 kB/s; see PROTOCOL.md */
#define FL_UART_TX_BUF 16384
#define FIFO_WORD 7

static spi_device_handle_t s_spi;
static TaskHandle_t s_acq_task;
static volatile int64_t s_wtm_time_us;
static int16_t *s_half[2];
static size_t s_values_per_half;
static uint8_t s_channels = 3;
static hal_half_done_fn s_cb;
static void *s_cb_ctx;
static uint8_t *s_dma_rx; /* DMA-capable: 1 address byte + words */
static uint8_t *s_dma_tx;
static volatile int64_t s_tach_last_us, s_tach_period_us;
esp_mqtt_client_handle_t hal_mqtt_client; /* set by main.c when MQTT is enabled */
static volatile int s_mqtt_connected;

static int reg_write(uint8_t reg, uint8_t val)
{
    spi_transaction_t t = {.length = 16, .flags = SPI_TRANS_USE_TXDATA, .tx_data = {reg, val}};
    return spi_device_polling_transmit(s_spi, &t) == ESP_OK ? 0 : -1;
}

static int reg_read(uint8_t reg, uint8_t *val)
{
    spi_transaction_t t = {.length = 16,
                           .flags = SPI_TRANS_USE_TXDATA | SPI_TRANS_USE_RXDATA,
                           .tx_data = {reg | IIS3DWB_SPI_READ, 0}};
    if (spi_device_polling_transmit(s_spi, &t) != ESP_OK) {
        return -1;
    }
    *val = t.rx_data[1];
    return 0;
}

int hal_accel_init(hal_accel_info *info)
{
    spi_bus_config_t bus = {.sclk_io_num = PIN_SCLK,
                            .mosi_io_num = PIN_MOSI,
                            .miso_io_num = PIN_MISO,
                            .quadwp_io_num = -1,
                            .quadhd_io_num = -1,
                            .max_transfer_sz = 4096};
    spi_device_interface_config_t dev = {.clock_speed_hz = 10 * 1000 * 1000, /* IIS3DWB max 10 MHz */
                                         .mode = 3,
                                         .spics_io_num = PIN_CS,
                                         .queue_size = 2};
    uint8_t id = 0;

    if (spi_bus_initialize(SPI2_HOST, &bus, SPI_DMA_CH_AUTO) != ESP_OK ||
        spi_bus_add_device(SPI2_HOST, &dev, &s_spi) != ESP_OK) {
        return -1;
    }
    if (reg_read(IIS3DWB_WHO_AM_I, &id) != 0 || id != IIS3DWB_ID) {
        return -2; /* absent or not an IIS3DWB */
    }
    reg_write(IIS3DWB_CTRL3_C, 0x01); /* software reset */
    vTaskDelay(pdMS_TO_TICKS(10));
    reg_write(IIS3DWB_CTRL3_C, 0x44);   /* BDU, address auto-increment */
    reg_write(IIS3DWB_CTRL6_C, 0x00);   /* X, Y and Z */
    reg_write(IIS3DWB_CTRL1_XL, 0xA0);  /* on, +-2 g */
    info->sample_rate_hz = IIS3DWB_ODR_HZ;
    info->scale_g_per_lsb = IIS3DWB_SENS_2G;
    info->channels = s_channels;
    return 0;
}

static void IRAM_ATTR int1_isr(void *arg)
{
    BaseType_t woken = pdFALSE;
    (void)arg;
    s_wtm_time_us = esp_timer_get_time();
    vTaskNotifyGiveFromISR(s_acq_task, &woken);
    portYIELD_FROM_ISR(woken);
}

/* Wall-clock us of an esp_timer timestamp (gettimeofday is SNTP-disciplined). */
static uint64_t to_wall_us(int64_t timer_us)
{
    return hal_clock_us() - (uint64_t)(esp_timer_get_time() - timer_us);
}

static void acq_task(void *arg)
{
    unsigned half = 0;
    size_t words = s_values_per_half / s_channels;
    (void)arg;
    for (;;) {
        spi_transaction_t t;
        size_t i;
        ulTaskNotifyTake(pdTRUE, portMAX_DELAY);
        int64_t stamp = s_wtm_time_us;
        memset(&t, 0, sizeof t);
        memset(s_dma_tx, 0, 1 + words * FIFO_WORD);
        s_dma_tx[0] = IIS3DWB_FIFO_DATA_OUT_TAG | IIS3DWB_SPI_READ;
        t.length = 8 * (1 + words * FIFO_WORD); /* the address wraps 0x7E -> 0x78 */
        t.tx_buffer = s_dma_tx;
        t.rx_buffer = s_dma_rx;
        if (spi_device_transmit(s_spi, &t) != ESP_OK) {
            continue; /* the half is not reported: the node's seq shows the loss */
        }
        for (i = 0; i < words; i++) {
            const uint8_t *w = s_dma_rx + 1 + i * FIFO_WORD; /* w[0] = tag */
            int16_t *out = s_half[half] + i * s_channels;
            out[0] = (int16_t)(w[1] | (w[2] << 8));
            out[1] = (int16_t)(w[3] | (w[4] << 8));
            out[2] = (int16_t)(w[5] | (w[6] << 8));
        }
        s_cb(s_cb_ctx, half, to_wall_us(stamp));
        half ^= 1u;
    }
}

int hal_spi_dma_start(int16_t *half0, int16_t *half1, size_t values_per_half, hal_half_done_fn cb,
                      void *ctx)
{
    size_t words = values_per_half / s_channels;
    gpio_config_t io = {.pin_bit_mask = 1ull << PIN_INT1,
                        .mode = GPIO_MODE_INPUT,
                        .intr_type = GPIO_INTR_POSEDGE};

    if (words == 0 || words > 511 || 1 + words * FIFO_WORD > 4096) {
        return -1; /* FIFO watermark is 9 bits; one DMA transfer <= 4 KiB */
    }
    s_half[0] = half0;
    s_half[1] = half1;
    s_values_per_half = values_per_half;
    s_cb = cb;
    s_cb_ctx = ctx;
    s_dma_rx = heap_caps_malloc(1 + words * FIFO_WORD, MALLOC_CAP_DMA);
    s_dma_tx = heap_caps_malloc(1 + words * FIFO_WORD, MALLOC_CAP_DMA);
    if (!s_dma_rx || !s_dma_tx) {
        return -1;
    }
    xTaskCreatePinnedToCore(acq_task, "fl_acq", 4096, NULL, configMAX_PRIORITIES - 2, &s_acq_task, 1);
    gpio_config(&io);
    gpio_install_isr_service(ESP_INTR_FLAG_IRAM);
    gpio_isr_handler_add(PIN_INT1, int1_isr, NULL);
    reg_write(IIS3DWB_FIFO_CTRL1, (uint8_t)(words & 0xFF));
    reg_write(IIS3DWB_FIFO_CTRL2, (uint8_t)(words >> 8));
    reg_write(IIS3DWB_INT1_CTRL, 0x08);  /* FIFO threshold on INT1 */
    reg_write(IIS3DWB_FIFO_CTRL3, 0x0A); /* batch accelerometer at 26667 Hz */
    reg_write(IIS3DWB_FIFO_CTRL4, 0x06); /* continuous mode */
    return 0;
}

size_t hal_uart_write(const uint8_t *data, size_t len)
{
    static int installed;
    size_t free_bytes = 0;
    if (!installed) {
        uart_config_t cfg = {.baud_rate = FL_UART_BAUD,
                             .data_bits = UART_DATA_8_BITS,
                             .parity = UART_PARITY_DISABLE,
                             .stop_bits = UART_STOP_BITS_1,
                             .flow_ctrl = UART_HW_FLOWCTRL_DISABLE,
                             .source_clk = UART_SCLK_DEFAULT};
        uart_driver_install(FL_UART, 256, FL_UART_TX_BUF, 0, NULL, 0);
        uart_param_config(FL_UART, &cfg);
        installed = 1;
    }
    /* Never block the main loop: write what the driver's ring can take. */
    if (uart_get_tx_buffer_free_size(FL_UART, &free_bytes) != ESP_OK || free_bytes == 0) {
        return 0;
    }
    if (len > free_bytes) {
        len = free_bytes;
    }
    return uart_write_bytes(FL_UART, data, len) < 0 ? 0 : len;
}

uint64_t hal_clock_us(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL); /* epoch once SNTP has synced, boot time before */
    return (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
}

static void IRAM_ATTR tach_isr(void *arg)
{
    int64_t now = esp_timer_get_time();
    (void)arg;
    if (s_tach_last_us) {
        s_tach_period_us = now - s_tach_last_us;
    }
    s_tach_last_us = now;
}

float hal_tach_rpm(void)
{
    static int installed;
    int64_t period = s_tach_period_us;
    if (!installed) {
        gpio_config_t io = {.pin_bit_mask = 1ull << PIN_TACH,
                            .mode = GPIO_MODE_INPUT,
                            .pull_up_en = GPIO_PULLUP_ENABLE,
                            .intr_type = GPIO_INTR_NEGEDGE};
        gpio_config(&io);
        gpio_isr_handler_add(PIN_TACH, tach_isr, NULL);
        installed = 1;
    }
    if (period <= 0 || esp_timer_get_time() - s_tach_last_us > TACH_STALE_US) {
        return 0.0f; /* no tach wired, or the shaft stopped */
    }
    return 60e6f / ((float)period * TACH_PULSES_PER_REV);
}

void hal_mqtt_set_connected(int connected)
{
    s_mqtt_connected = connected;
}

int hal_mqtt_publish(const char *topic, const uint8_t *payload, size_t len)
{
    if (!hal_mqtt_client || !s_mqtt_connected) {
        return -1;
    }
    /* QoS 0 from the node: a lost frame shows as a seq gap at the gateway,
     * and the node never blocks on the broker. */
    return esp_mqtt_client_publish(hal_mqtt_client, topic, (const char *)payload, (int)len, 0, 0) < 0
               ? -1
               : 0;
}
