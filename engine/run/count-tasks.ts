// How many tasks a play will announce, for the live view's "task N of M": its facts task and every task of its
// sections the tags select (a block's tasks and its always; not rescue, not the contents of dynamic includes).

import type { Node, Play } from '../load/model.ts';
import type { TagSelection } from './tags.ts';
import { selectedByTags } from './tags.ts';

export function countTasks(play: Play, options: TagSelection, gatherFacts: boolean): number {
  const count = (nodes: Node[]): number =>
    nodes.reduce((sum, node) => {
      if (node.kind === 'task') return sum + (selectedByTags(node.scope.tags, options) ? 1 : 0);
      if (node.kind === 'block') return sum + count(node.block) + count(node.always);
      return sum;
    }, 0);
  return (gatherFacts ? 1 : 0) + play.sections.reduce((sum, section) => sum + count(section), 0);
}
