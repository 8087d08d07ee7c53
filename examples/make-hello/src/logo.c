#include <stdio.h>

/* Defined in the generated logo-data.c (from data/logo.bin). */
extern const unsigned char logo_bin[];
extern const unsigned int logo_bin_len;

/* data/logo.bin: 4-byte magic "\x89LG\0", width, height, then one byte per row (MSB left). */
void unit_logo(void)
{
    unsigned sum = 0;
    for (unsigned i = 0; i < logo_bin_len; i++)
        sum = (sum * 31u + logo_bin[i]) & 0xffffu;

    if (logo_bin_len < 6 || logo_bin[0] != 0x89 || logo_bin[1] != 'L' ||
        logo_bin[2] != 'G' || logo_bin[3] != 0) {
        printf("[logo] not a logo (%u bytes, checksum %04x)\n", logo_bin_len, sum);
        return;
    }
    unsigned w = logo_bin[4], h = logo_bin[5];
    printf("[logo] %ux%u, %u bytes, checksum %04x\n", w, h, logo_bin_len, sum);
    for (unsigned y = 0; y < h && 6 + y < logo_bin_len; y++) {
        char row[9];
        unsigned char bits = logo_bin[6 + y];
        for (unsigned x = 0; x < 8; x++)
            row[x] = x < w && (bits & (0x80u >> x)) ? '#' : '.';
        row[8] = '\0';
        printf("[logo] %s\n", row);
    }
}
