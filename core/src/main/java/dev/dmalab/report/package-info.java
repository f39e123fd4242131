/**
 * Reports people would rather look at than read: one self-contained HTML file per run, replay or matrix (inline
 * CSS and hand-written SVG plots, no script, no external resource), built from what the run recorded. {@link
 * dev.dmalab.report.Timeline} listens to a machine's DMA events and samples the state a platform engineer wants to
 * see over time (swiotlb slots per area, IOVA space per IOMMU domain, bytes bounced per device, how long each
 * mapping lived); {@link dev.dmalab.report.HtmlReport} lays out the tables, findings, Oops and plots; {@link
 * dev.dmalab.report.Svg} draws. It models no kernel file. Output is a pure function of its inputs: no clock, no
 * unordered iteration, {@code Locale.ROOT} formatting, {@code \n} line ends.
 *
 * <p>May use: {@code matrix}, {@code scenario}, {@code replay}, {@code platform}, {@code check}, {@code iommu},
 * {@code swiotlb}, {@code dma}, {@code kernel}, {@code iommuhw}, {@code hypervisor}, {@code device}, {@code util}.
 */
package dev.dmalab.report;
