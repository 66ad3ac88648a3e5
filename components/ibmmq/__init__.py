"""``ibmmq:QUEUE`` - IBM MQ through the MQI, with units of work and poison-message handling.

    ibmmq:ORDERS?queue_manager=QM1&channel=DEV.APP.SVRCONN&conn_name=mq.example.com(1414)
        &user=app&password={{mq.password}}&cipher_spec=ANY_TLS12_OR_HIGHER&key_repository=/etc/mq/key

The MQI comes from IBM's ``ibmmq`` package, else ``pymqi`` (the same API), imported when a
route starts (``client.py``); both need the IBM MQ client library ``libmqm_r.so``, and without it
the route fails to start with a message saying what to install. Importing the engine never
imports them.

A consumed message is got under syncpoint and committed only after its exchange completed,
including confirmations downstream; a failure backs it out; a message backed out as often as
the queue's backout threshold goes to the backout queue or a dead-letter queue with an MQDLH,
in the same unit of work, so a poison message never loops (``consumer.py``). Puts from such a
route to the same queue manager join its unit of work; other puts go through connections owned
by threads of their own; InOut exchanges do request-reply (``producer.py``). MQMD fields map to
``JMS_IBM_MQMD_*`` headers and other headers to RFH2 properties (``mapping.py``). Connections
broken (2009, 2059, 2161, 2162, 2538...) are replaced with back-off. Options: ``eip doc ibmmq``.

**How this was tested.** No IBM MQ queue manager, and no MQ client library, was reachable
where this component was written: it has never talked to a real queue manager. The tests run
IBM's real ``ibmmq`` Python layer (its queue manager and queue classes, MQMD/GMO/PMO/OD
packing, MQMIError) over an in-repo stand-in for its C extension, ``ibmmq.ibmmqc``
(``tests/support/ibmmq_standin``), which models a queue manager as IBM documents it: queues
with maximum depth, wait intervals and reason 2033, syncpoint commit and backout with
BackoutCount, backout threshold and requeue queue, dead-letter queue, message and correlation id
matching, thread-bound connection handles, 2009 when a connection breaks, 2035/2085/2538 and the
other connect failures. What the stand-in does not model (channel exits, message groups and
segmentation, PROPCTL other than forcing or removing RFH2, data conversion beyond a few code
pages, clustering and transmission queues, the real client's timing) is untested.
"""

from components.ibmmq.client import load_mqi
from components.ibmmq.endpoint import IbmMqComponent, IbmMqEndpoint

__all__ = ["IbmMqComponent", "IbmMqEndpoint", "load_mqi"]
