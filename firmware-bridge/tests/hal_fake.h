#ifndef FL_HAL_FAKE_H
#define FL_HAL_FAKE_H

#include "core/fl_frame.h"
#include "hal.h"

extern uint8_t fake_uart[1u << 20];
extern size_t fake_uart_len;
extern size_t fake_uart_budget;
extern uint64_t fake_clock_us;
extern float fake_rpm;
extern int fake_mqtt_connected;
extern unsigned fake_mqtt_count;
extern size_t fake_mqtt_last_len;
extern uint8_t fake_mqtt_last[FL_FRAME_MAX_BYTES];
extern hal_half_done_fn fake_cb;
extern void *fake_cb_ctx;

#endif
