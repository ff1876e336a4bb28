import { describe, expect, it } from 'vitest';
import { ConditionFailed } from '../../../functions/domain/errors.js';
import { aProject, uniqueId, type StoreTarget } from '../fixtures.js';

export function projectStoreContract(target: () => StoreTarget): void {
  describe('ProjectStore', () => {
    it('stores a new project and hands back copies the caller cannot change', async () => {
      const { projects } = target().stores;
      const project = aProject(uniqueId('p'));
      await projects.create(project);
      const read = await projects.get(project.id);
      expect(read).toEqual(project);
      read!.classes.push('weeds');
      project.name = 'changed by caller';
      expect((await projects.get(project.id))?.classes).toEqual(['daisy', 'dandelion', 'roses']);
      expect((await projects.get(project.id))?.name).toBe(`Flowers ${project.id}`);
    });

    it('refuses a second project with a taken id and keeps the first', async () => {
      const { projects } = target().stores;
      const id = uniqueId('p');
      await projects.create(aProject(id, { name: 'first' }));
      await expect(projects.create(aProject(id, { name: 'second' }))).rejects.toBeInstanceOf(ConditionFailed);
      expect((await projects.get(id))?.name).toBe('first');
    });

    it('answers undefined for an unknown project', async () => {
      expect(await target().stores.projects.get(uniqueId('missing'))).toBeUndefined();
    });

    it('lists every project ordered by id', async () => {
      const { projects } = target().stores;
      const base = uniqueId('list');
      for (const suffix of ['c', 'a', 'b']) await projects.create(aProject(`${base}-${suffix}`));
      const ids = (await projects.list()).map((p) => p.id).filter((id) => id.startsWith(base));
      expect(ids).toEqual([`${base}-a`, `${base}-b`, `${base}-c`]);
    });

    it('applies an edit made at the current version and bumps the version', async () => {
      const { projects } = target().stores;
      const project = aProject(uniqueId('p'));
      await projects.create(project);
      const updated = await projects.update({ ...project, classes: ['daisy', 'tulips'] }, 1);
      expect(updated.version).toBe(2);
      expect(await projects.get(project.id)).toEqual({ ...project, classes: ['daisy', 'tulips'], version: 2 });
    });

    it('refuses an edit made from a stale version and keeps the stored project', async () => {
      const { projects } = target().stores;
      const project = aProject(uniqueId('p'));
      await projects.create(project);
      await projects.update({ ...project, name: 'first edit' }, 1);
      await expect(projects.update({ ...project, name: 'stale edit' }, 1)).rejects.toBeInstanceOf(ConditionFailed);
      expect(await projects.get(project.id)).toMatchObject({ name: 'first edit', version: 2 });
    });

    it('refuses to update a project that does not exist', async () => {
      const project = aProject(uniqueId('ghost'));
      await expect(target().stores.projects.update(project, 1)).rejects.toBeInstanceOf(ConditionFailed);
      expect(await target().stores.projects.get(project.id)).toBeUndefined();
    });
  });
}
