package dev.dmalab.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class SvgTest {
    @Test
    void niceValuesAndTicks() {
        assertThat(Svg.nice(0)).isEqualTo(1);
        assertThat(Svg.nice(7)).isEqualTo(10);
        assertThat(Svg.nice(11)).isEqualTo(20);
        assertThat(Svg.nice(200)).isEqualTo(200);
        assertThat(Svg.nice(201)).isEqualTo(500);
        assertThat(Svg.niceBinary(150_000)).isEqualTo(200 * 1024); // 146.5 KiB -> 200 KiB
        assertThat(Svg.niceBinary(1000 * 1024)).isEqualTo(1024 * 1024); // not "1000 KiB"
        assertThat(Svg.niceBinary(3)).isEqualTo(5);
        assertThat(Svg.ticks(20)).containsExactly(0L, 5L, 10L, 15L, 20L);
        assertThat(Svg.ticks(10)).containsExactly(0L, 2L, 4L, 6L, 8L, 10L);
        assertThat(Svg.ticks(1)).containsExactly(0L, 1L);
        assertThat(Svg.ticks(2)).containsExactly(0L, 1L, 2L);
        assertThat(Svg.ticksBinary(50 * 1024)).containsExactly(0L, 10240L, 20480L, 30720L, 40960L, 51200L);
        assertThat(Svg.ticksBinary(200 * 1024)).containsExactly(0L, 51200L, 102400L, 153600L, 204800L);
    }

    @Test
    void coordinatesHaveOneDecimal() {
        assertThat(Svg.f(12.0)).isEqualTo("12");
        assertThat(Svg.f(12.04)).isEqualTo("12");
        assertThat(Svg.f(12.06)).isEqualTo("12.1");
        assertThat(Svg.f(-0.5)).isEqualTo("-0.5");
        assertThat(Svg.f(-3.25)).isEqualTo("-3.2");
    }

    @Test
    void aStepSeriesWithMorePointsThanPixelsIsDrawnAsItsEnvelope() {
        Series s = new Series("busy", 0, 0);
        for (int i = 1; i <= 100_000; i++) {
            s.record(i * 10L, i % 2 == 0 ? 0 : (i == 50_001 ? 900 : 3));
        }
        String svg = Svg.steps("x", "t", List.of(s), 0, 1_000_000, "v", Long::toString, false, -1, "");
        Matcher d = Pattern.compile(" d=\"([^\"]*)\"").matcher(svg);
        assertThat(d.find()).isTrue();
        String path = d.group(1);
        long horizontals = path.chars().filter(c -> c == 'H').count();
        assertThat(horizontals).as("one per pixel column at most, plus the end").isLessThanOrEqualTo(Svg.WIDTH + 1);
        // the single peak of 900 survives: yMax = 1000, so 900 is drawn at 10% below the top of the plot
        double plotH = 250 - Svg.TOP - Svg.BOTTOM;
        assertThat(path).contains("V" + Svg.f(Svg.TOP + plotH - plotH * 900 / 1000));
        assertThat(svg).startsWith("<svg class=\"plot\" id=\"x\"").endsWith("</svg>\n");
    }

    @Test
    void aSeriesKeepsOnlyChangesAndRefusesTimeGoingBack() {
        Series s = new Series("s", 10, 0);
        s.record(11, 0);
        s.record(12, 5);
        s.record(12, 5);
        s.record(13, 2);
        assertThat(s.size()).isEqualTo(3);
        assertThat(s.max()).isEqualTo(5);
        assertThat(s.last()).isEqualTo(2);
        assertThatThrownBy(() -> s.record(12, 7)).hasMessageContaining("backwards");
    }

    @Test
    void textIsEscaped() {
        assertThat(Html.esc("a<b & \"c\" 'd'>")).isEqualTo("a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;");
        assertThat(Html.esc(null)).isEmpty();
        String svg = Svg.bars(
                "b", "<t>", List.of("dev<1>"), List.of(new long[] {5}), List.of("p&q"), Html::bytes, true, "x");
        assertThat(svg).contains("dev&lt;1&gt;").contains("p&amp;q").doesNotContain("dev<1>");
    }

    @Test
    void unitsAreReadable() {
        assertThat(Html.bytes(0)).isEqualTo("0 B");
        assertThat(Html.bytes(4096)).isEqualTo("4 KiB");
        assertThat(Html.bytes(1536 * 1024)).isEqualTo("1.5 MiB");
        assertThat(Html.time(999)).isEqualTo("999 ns");
        assertThat(Html.time(1_500)).isEqualTo("1.5 µs");
        assertThat(Html.time(2_000_000)).isEqualTo("2 ms");
        assertThat(Html.time(12_345_678_900L)).isEqualTo("12.346 s");
    }
}
