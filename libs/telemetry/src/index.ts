export {
  TRACEPARENT,
  type Tracing,
  contextOf,
  inSpan,
  recordSpan,
  startTracing,
  traceparentOf,
} from './tracing.js';
