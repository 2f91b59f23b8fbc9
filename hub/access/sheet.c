/*
 * sheet.c — the office's enrolment sheet: A4 HTML with an inline SVG QR code.
 */
#include "sheet.h"

#include <qrencode.h>

#include "textout.h"

#define QUIET 4 /* modules of white around the code (ISO/IEC 18004) */

int sheet_qr_svg(FILE *f, const char *text)
{
	QRcode *qr = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_M);
	if (!qr)
		return -1;
	int w = qr->width, size = w + 2 * QUIET;
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"qr\" viewBox=\"0 0 %d %d\""
		   " shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"Mã QR của mã tham gia\">"
		   "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
		size, size, size, size);
	for (int y = 0; y < w; y++)
		for (int x = 0; x < w; x++) {
			if (!(qr->data[y * w + x] & 1))
				continue;
			int run = 1; /* one rectangle per run of dark modules */
			while (x + run < w && (qr->data[y * w + x + run] & 1))
				run++;
			fprintf(f, "M%d %dh%dv1h-%dz", x + QUIET, y + QUIET, run, run);
			x += run - 1;
		}
	fputs("\"/></svg>", f);
	QRcode_free(qr);
	return 0;
}

static const char STYLE[] =
	"@page{size:A4;margin:18mm}"
	"body{font-family:'Noto Sans','DejaVu Sans',Arial,sans-serif;font-size:12pt;color:#000;"
	"max-width:174mm;margin:0 auto}"
	"h1{font-size:18pt;margin:0 0 4mm}"
	"table{border-collapse:collapse;margin:0 0 6mm}th{text-align:left;padding:1mm 4mm 1mm 0;"
	"font-weight:normal;color:#333}td{padding:1mm 0;font-weight:bold}"
	".qr{width:70mm;height:70mm;display:block;margin:4mm 0}"
	".code{font-family:'DejaVu Sans Mono',monospace;font-size:10pt;word-break:break-all;"
	"border:1px solid #000;padding:3mm;line-height:1.5}"
	"ol{padding-left:6mm}li{margin:1mm 0}.warn{border-left:3px solid #000;padding-left:3mm}";

int sheet_write(FILE *f, const struct sheet_office *o)
{
	fputs("<!DOCTYPE html>\n<html lang=\"vi\"><head><meta charset=\"utf-8\">"
	      "<title>Phiếu kết nối Liên Kết — ", f);
	textout_html(f, o->office);
	fprintf(f, "</title><style>%s</style></head><body>\n<h1>Phiếu kết nối Liên Kết</h1>\n<table>\n"
		   "<tr><th>Văn phòng</th><td>", STYLE);
	textout_html(f, o->office);
	fputs("</td></tr>\n<tr><th>Đơn vị</th><td>", f);
	textout_html(f, o->unit);
	fputs("</td></tr>\n<tr><th>Máy chủ của tỉnh</th><td>", f);
	textout_html(f, o->hub_url);
	fputs("</td></tr>\n<tr><th>Ngày cấp</th><td>", f);
	textout_html(f, o->issued);
	fputs("</td></tr>\n</table>\n<h2>Mã tham gia</h2>\n", f);
	if (sheet_qr_svg(f, o->code) != 0)
		return -1;
	fputs("\n<p class=\"code\">", f);
	textout_html(f, o->code);
	fputs("</p>\n<h2>Cách dùng</h2>\n<ol>\n"
	      "<li>Cài Liên Kết trên máy của văn phòng.</li>\n"
	      "<li>Mở ứng dụng Liên Kết và dán mã ở trên (hoặc quét mã QR) vào màn hình đầu tiên; "
	      "hoặc gõ lệnh <code>lienket-agent init --join MÃ</code>.</li>\n"
	      "<li>Mã có số kiểm tra: gõ sai một ký tự, máy sẽ báo để gõ lại.</li>\n</ol>\n"
	      "<p class=\"warn\">Giữ kín phiếu này: mã tham gia chứa khóa truy cập của văn phòng. "
	      "Cất phiếu nơi an toàn hoặc hủy sau khi cài đặt. Mất phiếu, hãy báo tỉnh để thu hồi mã "
	      "và cấp mã mới.</p>\n</body></html>\n", f);
	return ferror(f) ? -1 : 0;
}
