/* IIS3DWB register map, the part the node uses (ST datasheet DS13043). */
#ifndef IIS3DWB_H
#define IIS3DWB_H

#define IIS3DWB_WHO_AM_I 0x0F /* reads 0x7B */
#define IIS3DWB_ID 0x7B
#define IIS3DWB_FIFO_CTRL1 0x07 /* watermark [7:0], in FIFO words */
#define IIS3DWB_FIFO_CTRL2 0x08 /* bit 0: watermark bit 8 */
#define IIS3DWB_FIFO_CTRL3 0x09 /* BDR_XL[3:0]: 0xA = 26667 Hz */
#define IIS3DWB_FIFO_CTRL4 0x0A /* FIFO_MODE[2:0]: 6 = continuous */
#define IIS3DWB_INT1_CTRL 0x0D  /* bit 3: INT1_FIFO_TH */
#define IIS3DWB_CTRL1_XL 0x10   /* XL_EN[7:5] = 101, FS_XL[3:2] */
#define IIS3DWB_CTRL3_C 0x12    /* BDU bit 6, IF_INC bit 2, SW_RESET bit 0 */
#define IIS3DWB_CTRL6_C 0x15    /* XL_AXIS_SEL[1:0]: 0 = XYZ, 1 = X only */
#define IIS3DWB_FIFO_STATUS1 0x3A
#define IIS3DWB_FIFO_STATUS2 0x3B
#define IIS3DWB_FIFO_DATA_OUT_TAG 0x78 /* 7-byte words: tag, X, Y, Z (LE int16) */

#define IIS3DWB_ODR_HZ 26667.0f
#define IIS3DWB_SENS_2G 0.000061f /* g/LSB at +-2 g (0.061 mg/LSB) */
#define IIS3DWB_SPI_READ 0x80

#endif
