export { ClusterView, type Folded, type ViewListener } from './cluster-view.js';
