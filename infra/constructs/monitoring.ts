// Operations: alarms on what needs a person (messages dead-lettered, functions failing or throttled, API 5xx),
// optionally emailed through SNS, and one dashboard with the same signals.

import { Duration, Stack } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  Metric,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledge, finding } from '../nag.js';

export interface MonitoringProps {
  /** Function name (for alarm and widget titles) -> function. */
  readonly functions: Record<string, IFunction>;
  /** Queue name -> its dead-letter queue. */
  readonly deadLetterQueues: Record<string, IQueue>;
  /** Queue name -> work queue (depth and age on the dashboard). */
  readonly queues: Record<string, IQueue>;
  readonly httpApi: HttpApi;
  /** Alarms are emailed here; absent = alarms only (visible in the console and on the dashboard). */
  readonly alarmEmail?: string;
  readonly dashboardName: string;
}

const PERIOD = Duration.minutes(5);

export class Monitoring extends Construct {
  readonly alarms: Alarm[] = [];
  readonly topic?: Topic;
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    if (props.alarmEmail) {
      this.topic = new Topic(this, 'Alarms', { displayName: 'Winnow alarms', enforceSSL: true });
      this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
      acknowledge(this.topic, {
        [finding.rule('SNS2')]:
          'CloudWatch alarms cannot publish to a topic encrypted with the AWS-managed SNS key, and a customer key ' +
          'costs $1 a month for alarm names and states only; messages carry no labeling data',
      });
    }

    for (const [name, dlq] of Object.entries(props.deadLetterQueues)) {
      this.alarm(`${name}DeadLetters`, `${name}: messages in the dead-letter queue (failed repeatedly)`,
        dlq.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum' }), 0);
    }
    for (const [name, fn] of Object.entries(props.functions)) {
      this.alarm(`${name}Errors`, `${name} function: invocations failed`, fn.metricErrors({ period: PERIOD, statistic: 'Sum' }), 0);
      this.alarm(`${name}Throttles`, `${name} function: invocations throttled (concurrency quota)`, fn.metricThrottles({ period: PERIOD, statistic: 'Sum' }), 0);
    }
    const api5xx = props.httpApi.metricServerError({ period: PERIOD, statistic: 'Sum' });
    this.alarm('Api5xx', 'API: answers with status 5xx', api5xx, 0);

    const fnMetrics = (pick: (fn: IFunction) => IMetric) =>
      Object.entries(props.functions).map(([name, fn]) => withLabel(pick(fn), name));
    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      widgets: [
        [new TextWidget({ markdown: `# Winnow (${Stack.of(this).stackName})\nAlarms: dead letters, function errors and throttles, API 5xx.`, width: 24, height: 2 })],
        [
          graph('Invocations', fnMetrics((fn) => fn.metricInvocations({ period: PERIOD, statistic: 'Sum' }))),
          graph('Errors', fnMetrics((fn) => fn.metricErrors({ period: PERIOD, statistic: 'Sum' }))),
          graph('Throttles', fnMetrics((fn) => fn.metricThrottles({ period: PERIOD, statistic: 'Sum' }))),
        ],
        [
          graph('Duration p95 (ms)', fnMetrics((fn) => fn.metricDuration({ period: PERIOD, statistic: 'p95' }))),
          graph('Queue depth', Object.entries(props.queues).map(([n, q]) => withLabel(q.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum' }), n))),
          graph('Dead letters', Object.entries(props.deadLetterQueues).map(([n, q]) => withLabel(q.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum' }), n))),
        ],
        [
          graph('API requests and errors', [
            withLabel(props.httpApi.metricCount({ period: PERIOD, statistic: 'Sum' }), 'requests'),
            withLabel(props.httpApi.metricClientError({ period: PERIOD, statistic: 'Sum' }), '4xx'),
            withLabel(api5xx, '5xx'),
          ]),
          graph('API latency p95 (ms)', [withLabel(props.httpApi.metricLatency({ period: PERIOD, statistic: 'p95' }), 'latency')]),
          graph('Oldest message age (s)', Object.entries(props.queues).map(([n, q]) => withLabel(q.metricApproximateAgeOfOldestMessage({ period: PERIOD, statistic: 'Maximum' }), n))),
        ],
      ],
    });
  }

  private alarm(id: string, description: string, metric: IMetric, threshold: number): void {
    const alarm = new Alarm(this, id, {
      alarmDescription: description,
      metric,
      threshold,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    if (this.topic) {
      alarm.addAlarmAction(new SnsAction(this.topic));
      alarm.addOkAction(new SnsAction(this.topic));
    }
    this.alarms.push(alarm);
  }
}

function graph(title: string, left: IMetric[]): GraphWidget {
  return new GraphWidget({ title, left, width: 8, height: 6 });
}

function withLabel(metric: IMetric, label: string): IMetric {
  return metric instanceof Metric ? metric.with({ label }) : metric;
}
